# The Mailferry command line in a container, for `mailferry batch` under a scheduler (see the
# README, "Moving many mailboxes", and deploy/kubernetes/). The desktop app is not in it.
#
#   docker build -t mailferry .
#   docker run --rm -v "$PWD:/work" -e ALICE_PW mailferry batch /work/users.csv --state-dir /work/state
#
# Nothing secret is built in: passwords come at run time from environment variables or mounted
# files that the users CSV names.

# Build: the whole tool chain compiles src/ to dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Electron is a development dependency of the desktop app; the command line never needs its binary.
ENV ELECTRON_SKIP_BINARY_DOWNLOAD=1
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src/ src/
RUN npm run build

# Run: Node, the production dependencies and the compiled command line, as an unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin/ bin/
COPY scripts/check-node-version.mjs scripts/check-node-version.mjs
COPY --from=build /app/dist/src/ dist/src/
RUN chmod 0755 bin/mailferry.js && ln -s /app/bin/mailferry.js /usr/local/bin/mailferry
# The image's own `node` user (uid 1000); the journals go to a mounted volume (--state-dir).
USER node
ENTRYPOINT ["mailferry"]
CMD ["--help"]
