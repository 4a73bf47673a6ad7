# syntax=docker/dockerfile:1
#
# One image for api, worker and fal-sim: the api by default, the others via `command:` in
# docker-compose.yml. The apps run from their TypeScript sources through tsx's loader with
# the `@fluxq/source` export condition (as `npm start` and the tests do), so there is no
# compile step, and node_modules is kept as `npm ci` installed it, dev dependencies
# included, because tsx is one of them. The simplest image that runs exactly the tested
# code; a `tsc` build plus `npm ci --omit=dev` can shrink it later.

ARG NODE_IMAGE=node:20-bookworm-slim

# Just the workspace manifests, so the `npm ci` layer below is rebuilt only when a
# package.json or the lockfile changes, not on every source edit.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY apps ./apps
COPY packages ./packages
RUN find apps packages -mindepth 2 -maxdepth 2 ! -name package.json -exec rm -rf {} +

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY --from=manifests /app/apps ./apps
COPY --from=manifests /app/packages ./packages
RUN --mount=type=cache,target=/root/.npm npm ci

# Sources on top of the installed dependencies. Nothing to compile (see above).
FROM deps AS build
COPY . .

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    STORAGE_DIR=/app/.data/storage
WORKDIR /app
# Code and dependencies stay root-owned (read-only to the app); only .data is writable.
# A named volume mounted on .data/storage starts with this directory's owner.
COPY --from=build /app /app
RUN mkdir -p /app/.data/storage && chown -R node:node /app/.data
USER node
EXPOSE 8080
# One node process (no tsx CLI wrapper), so `docker stop`'s SIGTERM reaches the app's
# graceful shutdown directly.
CMD ["node", "--import", "tsx", "--conditions=@fluxq/source", "apps/api/src/main.ts"]
