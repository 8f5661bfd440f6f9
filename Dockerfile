# Seqline's image (docs/deploy.md): every program in one image, chosen by SEQLINE_SERVICE
# (sequencer, storage, write, gateway, dashboard, secrets; default gateway):
#   docker build -t seqline/seqline .
#   docker run -e SEQLINE_SERVICE=sequencer seqline/seqline
# The build stage installs the packages, then bundles each program from its TypeScript source
# with its packages inlined, and builds the dashboard page (infra/compose/src/bundle.ts), so the
# runtime stage holds only plain `node` and /app (about 16 MB of JavaScript and WebAssembly, no
# node_modules), run as the user node.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# --offline when the context brings its node_modules and no registry is reachable (the compose test).
ARG NPM_INSTALL_FLAGS=""
WORKDIR /src
COPY . .
RUN npm install --ignore-scripts --no-audit --no-fund --loglevel=error $NPM_INSTALL_FLAGS \
 && node --conditions=@seqline/source --import tsx infra/compose/src/bundle.ts /out

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    SEQLINE_SERVICE=gateway \
    SEQLINE_SEQUENCER_HOST=0.0.0.0 \
    SEQLINE_STORAGE_HOST=0.0.0.0 \
    SEQLINE_WRITE_HOST=0.0.0.0 \
    SEQLINE_GATEWAY_HOST=0.0.0.0 \
    SEQLINE_DASHBOARD_HOST=0.0.0.0
WORKDIR /app
# The secrets volume is mounted here: a new named volume takes this directory's owner.
RUN mkdir -p /run/seqline && chown node:node /run/seqline
COPY --from=build /out/ /app/
USER node
EXPOSE 8080 8081 50051 50052 50053
# The service's own check: gRPC health (sequencer, storage, write) or HTTP (gateway, dashboard).
HEALTHCHECK --interval=5s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.js"]
CMD ["node", "/app/seqline.js"]
