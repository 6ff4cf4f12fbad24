# AetherOS TTS. Build: docker build -t aetheros/tts .   Run: docker run -p 8002:8002 aetheros/tts
#
# Stage 1 builds the espeak-ng binding (Rust) and fetches the default voice; stage 2 is
# Node with production dependencies only, running as a non-root user.

FROM rust:1-bookworm AS rust

FROM node:20-bookworm AS build
# The binding's build: bindgen needs libclang, espeak-ng links libsonic; pip fetches the voice.
RUN apt-get update && apt-get install -y --no-install-recommends clang libclang-dev libsonic-dev cmake python3-pip \
 && rm -rf /var/lib/apt/lists/*
COPY --from=rust /usr/local/cargo /usr/local/cargo
COPY --from=rust /usr/local/rustup /usr/local/rustup
ENV CARGO_HOME=/usr/local/cargo RUSTUP_HOME=/usr/local/rustup PATH=/usr/local/cargo/bin:$PATH
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# npm ci links the workspace packages (the typed client) and needs their manifests.
COPY clients/node/package.json clients/node/package.json
COPY native/espeak native/espeak
COPY tools/prerequisites.mjs tools/prerequisites.mjs
RUN npm ci
COPY . .
# The default voice is fetched at build time, so a container starts without network access.
RUN npm run voices:fetch
RUN npm prune --omit=dev && rm -rf native/espeak/target

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libsonic0 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
ENV NODE_ENV=production SERVICE_PORT=8002 MODELS_DIR=/app/models CACHE_DIR=/app/.cache/tts
# A new named volume starts with the voices baked into the image.
VOLUME ["/app/models", "/app/.cache"]
EXPOSE 8002
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["npm", "run", "--silent", "healthcheck"]
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "src/server/main.ts"]
