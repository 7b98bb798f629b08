# Image for the governance platform's Node processes. One image, two roles,
# chosen by the command (see docker-compose.yml):
#   migrate: node dist/node/migrate.mjs  (one-shot, as the owner role)
#   worker:  node dist/node/worker.mjs   (Temporal worker: workflows + activities)
#   api:     node dist/node/api.mjs      (HTTP API on $PORT)
#
# The three are compiled ahead of time by scripts/node-build.ts (esbuild, a
# dependency of tsx, so a regular one), and the workflows are bundled once
# into dist/node/workflows.js: a restarted worker polls in about a second
# instead of transpiling the product and bundling its workflows again.
# `tsx worker.ts` still works from a checkout.
#
# Debian (glibc), not Alpine: @temporalio/core-bridge ships prebuilt native
# binaries for glibc Linux only.

# The console (web/) is built by Vite, a dev dependency: in its own stage, so
# only its static files reach the image.
FROM node:20-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsx scripts/web-build.ts

FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app

# Dependencies first, so source edits do not invalidate this layer.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# Application source (see .dockerignore for what stays out).
COPY . .
COPY --from=console /app/web/dist web/dist
RUN npx tsx scripts/node-build.ts
ENV GOVERNANCE_WORKFLOW_BUNDLE=/app/dist/node/workflows.js

# Run as the image's unprivileged user. The source stays root-owned and
# read-only for it.
USER node

# Default role; docker-compose.yml sets the command for each service.
CMD ["node", "--enable-source-maps", "dist/node/api.mjs"]
