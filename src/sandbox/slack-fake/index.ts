// Owns the public surface of the local Slack fake: Web API server, Socket Mode server, views (modals, Home tabs),
// driver, Block Kit renderer.
export * from './block-limits.ts';
export * from './driver.ts';
export * from './render.ts';
export * from './socket-mode.ts';
export * from './views.ts';
export * from './web-api.ts';
