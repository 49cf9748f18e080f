// Owns the public surface of the local Slack fake: Web API server, signed-request driver, Block Kit text renderer.
export * from './block-limits.ts';
export * from './driver.ts';
export * from './render.ts';
export * from './web-api.ts';
