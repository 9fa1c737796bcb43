# nslab: the HTTP API, the WebSocket gateway and the built web client on one
# port (8080). Run it behind docker-compose.yml's proxy, with REDIS_URL set.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY shared shared
COPY server server
COPY web web
RUN npm run build:web

FROM node:22-bookworm-slim
ENV NODE_ENV=production PORT=8080 HOST=0.0.0.0
WORKDIR /app
# `npm start` runs the TypeScript sources with tsx, a devDependency, so the
# image keeps the whole install from the build stage.
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist/web dist/web
COPY package.json tsconfig.json ./
COPY shared shared
COPY server server
# Where the file store would write when REDIS_URL is unset (DATA_DIR defaults to ./data).
RUN mkdir data && chown node:node data
USER node
EXPOSE 8080
# The image has no curl; Node's fetch asks /healthz, which answers 503 while the store is unreachable.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# As `npm start` without npm in between, so SIGTERM reaches the server and it
# closes its connections (1001) before exiting.
CMD ["node", "--import", "tsx", "server/main.ts"]
