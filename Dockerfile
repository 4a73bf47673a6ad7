# syntax=docker/dockerfile:1
#
# One image for api, worker and fal-sim: the api by default, the others via `command:` in
# docker-compose.yml. They run as compiled JavaScript with plain node: the build stage
# compiles every workspace (`npm run build`), and the runtime stage holds that output and
# only production dependencies (`npm ci --omit=dev`), so no tsx, TypeScript or test tools.

ARG NODE_IMAGE=node:20-bookworm-slim

# Just the workspace manifests, so the `npm ci` layers below are rebuilt only when a
# package.json or the lockfile changes, not on every source edit.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY apps ./apps
COPY packages ./packages
RUN find apps packages -mindepth 2 -maxdepth 2 ! -name package.json -exec rm -rf {} +

# Everything, dev dependencies included: what compiling needs.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY --from=manifests /app/apps ./apps
COPY --from=manifests /app/packages ./packages
RUN --mount=type=cache,target=/root/.npm npm ci

FROM deps AS build
COPY . .
RUN npm run build && sh scripts/docker/runtime-files.sh /out

# The services' production dependencies (`npm ci --omit=dev`), and nothing of the SDK, the
# CLI or the test harness: see scripts/docker/production-deps.mjs for why npm needs help.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY --from=manifests /app/apps ./apps
COPY --from=manifests /app/packages ./packages
COPY scripts/docker/production-deps.mjs /tmp/
RUN --mount=type=cache,target=/root/.npm node /tmp/production-deps.mjs

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    STORAGE_DIR=/app/.data/storage
WORKDIR /app
# Code and dependencies stay root-owned (read-only to the app); only .data is writable.
# A named volume mounted on .data/storage starts with this directory's owner.
COPY --from=prod-deps /app /app
COPY --from=build /out/ /app/
RUN mkdir -p /app/.data/storage && chown -R node:node /app/.data
USER node
EXPOSE 8080
# One node process and no wrapper, so `docker stop`'s SIGTERM reaches the
# app's graceful shutdown directly.
CMD ["node", "apps/api/dist/main.js"]
