# Image for the governance platform's Node processes. One image, two roles,
# chosen by the command (see docker-compose.yml):
#   worker: npx tsx worker.ts        (Temporal worker: workflows + activities)
#   api:    npx tsx api/server.ts    (HTTP API on $PORT, runs DB migrations)
#
# TypeScript runs through tsx, a regular (non-dev) dependency, so there is no
# build step and dev dependencies stay out of the image.
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

# Run as the image's unprivileged user. The source stays root-owned and
# read-only for it; tsx only writes its cache under /tmp.
USER node

# Default role; docker-compose.yml sets the command for each service.
CMD ["npx", "tsx", "api/server.ts"]
