# AetherOS TTS. Build: docker build -t aetheros/tts .   Run: docker run -p 8002:8002 aetheros/tts
#
# Stage 1 builds the espeak-ng binding (Rust), the JavaScript (npm run build: tsc's type
# check, then esbuild into dist/) and fetches the default voice; stage 2 is Node with
# production dependencies and dist/ only, owned by root and read-only for the numeric
# runtime user, which may write only the voices and cache volumes.

FROM rust:1-bookworm AS rust

FROM node:24-bookworm AS build
# The binding's build: bindgen needs libclang, espeak-ng links libsonic; pip fetches the voice.
RUN apt-get update && apt-get install -y --no-install-recommends clang libclang-dev libsonic-dev cmake python3-pip \
 && rm -rf /var/lib/apt/lists/*
COPY --from=rust /usr/local/cargo /usr/local/cargo
COPY --from=rust /usr/local/rustup /usr/local/rustup
# onnxruntime-node: CPU only, no CUDA provider download.
ENV CARGO_HOME=/usr/local/cargo RUSTUP_HOME=/usr/local/rustup PATH=/usr/local/cargo/bin:$PATH ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci links the workspace packages (the typed client) and needs their manifests.
COPY clients/node/package.json clients/node/package.json
COPY native/espeak native/espeak
COPY tools/prerequisites.mjs tools/prerequisites.mjs
RUN npm ci
COPY . .
RUN npm run build
# The default voice is fetched at build time, so a container starts without network access.
RUN npm run voices:fetch
RUN npm prune --omit=dev

FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libsonic0 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# The two folders the service writes: voices (fetched at run time when missing) and the cache.
COPY --from=build --chown=10001:10001 /app/models models
RUN mkdir -p .cache/tts && chown -R 10001:10001 .cache
USER 10001:10001
ENV NODE_ENV=production SERVICE_PORT=8002 MODELS_DIR=/app/models CACHE_DIR=/app/.cache/tts
# A new named volume starts with the voices baked into the image.
VOLUME ["/app/models", "/app/.cache"]
EXPOSE 8002
# grpc.health.v1 on HEALTH_PORT when set, else on SERVICE_PORT (TLS when configured): node:http2, no tsx.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/src/server/healthcheck.js"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/server/main.js"]
