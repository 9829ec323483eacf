# Baton in one process (`baton standalone`: API, dashboard, sync, scheduler, worker). bin/baton.mjs runs
# a bundle of the TypeScript sources (esbuild, a runtime dependency), built here once so the container
# starts without building it; `npm ci --omit=dev` has all it needs.
FROM node:20-slim

# wget and gzip: the seed's extract tasks run `wget -qO- … | gunzip` on the Process runner, in this container.
RUN apt-get update \
 && apt-get install -y --no-install-recommends wget ca-certificates gzip \
 && rm -rf /var/lib/apt/lists/*

# Process-runner commands run as this unprivileged user, so a flow cannot read Baton's environment,
# memory or data directory (engine/runners/task-user.ts; BATON_TASK_USER names another).
RUN useradd --system --no-create-home --shell /usr/sbin/nologin baton-task

WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY . .
RUN node bin/bundle.mjs

# Embedded database and internal storage when DATABASE_URL is unset; internal storage always.
ENV BATON_DATA_DIR=/var/lib/baton \
    PORT=8080
VOLUME ["/var/lib/baton"]
EXPOSE 8080

# Runs as root: the Docker runner talks to the mounted /var/run/docker.sock, whose group differs per host.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "bin/baton.mjs", "standalone"]
