# syntax=docker/dockerfile:1
# qlik-access-bot: one image, three roles — `node dist/main.js all|bot|worker` (compose.yaml runs bot and worker).
#   docker build -t qlik-access-bot .
#   docker run --env-file .env -p 127.0.0.1:3000:3000 qlik-access-bot  # bot + worker; port 3000 (/metrics) on loopback
# Node 24, as package.json `engines` and src/node-version.ts require (the entry refuses an older Node).
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: all dependencies, compile src/ to dist/ (tsc rewrites the .ts import specifiers to .js) ---------------
# scripts/build.ts runs tsc (the sandbox is left out) and copies the stores' Lua scripts beside their compiled code.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.ts ./scripts/
COPY src ./src
RUN npm run build

# --- deps: production dependencies only -------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ----------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node (graceful shutdown drains jobs) and reaps zombies.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
# The V8 heap sized for the bot rather than for the host (package.json config.nodeOptions, which npm start uses too):
# left to itself V8 sizes the young generation to 64 MB semi-spaces and lets the old one grow to 4 × what is live
# before collecting, on a large host; RSS then climbs past 500 MB under load with ~60 MB live. NODE_OPTIONS reaches
# every command the image runs, compose.yaml's too. Add to it (NODE_OPTIONS="… --max-old-space-size=1024") if a
# deployment needs more.
ENV NODE_ENV=production \
    PORT=3000 \
    NODE_OPTIONS="--max-semi-space-size=16 --max-old-space-size=512"
WORKDIR /app
COPY --chown=node:node package.json ./
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node examples ./examples
COPY --chown=node:node manifest.yml ./
# The image's own unprivileged user (uid 1000): nothing here needs root.
USER node
EXPOSE 3000
# No curl in slim images: node's fetch asks /healthz (200 while the process is up; the worker role serves it too).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js", "all"]
