#!/usr/bin/env bash
# A real Medusa 2.8 core server for Hélio's test tier, on PostgreSQL 15 and Redis from Debian.
#
#   medusa-core.sh install   npm ci (pinned package-lock.json) into $MEDUSA_CORE_DIR; apt-get for
#                            postgresql/redis-server when missing. The only step that downloads.
#   medusa-core.sh start     fresh PostgreSQL cluster + redis-server on free loopback ports,
#                            `medusa db:migrate`, an admin user, `medusa start`; waits for /health and
#                            writes $MEDUSA_CORE_DIR/run/env (MEDUSA_URL, admin login) for the tests.
#   medusa-core.sh stop      stops what start started (by the pids it wrote).
#
# Seeding (region BRL, products with SKU/price/stock, keys, a service customer) is done by the
# tests through Medusa's admin API, not here.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DIR="${MEDUSA_CORE_DIR:-$ROOT/var/medusa-core}"
RUN="$DIR/run"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
ADMIN_EMAIL="admin@helio.test"
ADMIN_PASSWORD="helio-core-admin"

log() { echo "[medusa-core] $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

ensure_debian() {
  local missing=()
  [ -x "$PGBIN/initdb" ] || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "instalando ${missing[*]} com apt-get…"
  local sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

install() {
  ensure_debian
  command -v node >/dev/null || { log "Node.js 20+ é necessário (apt-get install nodejs npm)"; exit 1; }
  mkdir -p "$DIR"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$HERE/medusa-config.js" "$DIR/"
  rm -rf "$DIR/src" && cp -r "$HERE/src" "$DIR/src"
  local sum; sum=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
  if [ -d "$DIR/node_modules/@medusajs/medusa" ] && [ "$(cat "$DIR/.lock.sha256" 2>/dev/null)" = "$sum" ]; then
    log "dependências já instaladas ($DIR)"; return 0
  fi
  local t0=$SECONDS
  (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$sum" >"$DIR/.lock.sha256"
  log "npm ci: $((SECONDS - t0)) s, node_modules $(du -sh "$DIR/node_modules" | cut -f1)"
}

stop() {
  # medusa runs in its own process group (setsid): stop npx and the node server under it together
  # (it may ignore SIGTERM while connections close: SIGKILL after 10 s)
  if [ -f "$RUN/medusa.pid" ]; then
    local group; group="$(cat "$RUN/medusa.pid")"
    kill -- "-$group" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 -- "-$group" 2>/dev/null || break; sleep 0.5; done
    kill -9 -- "-$group" 2>/dev/null || true
    rm -f "$RUN/medusa.pid"
  fi
  if [ -f "$RUN/redis.pid" ]; then kill "$(cat "$RUN/redis.pid")" 2>/dev/null || true; rm -f "$RUN/redis.pid"; fi
  if [ -d "$RUN/pg/data" ]; then as_pg "$PGBIN/pg_ctl" -D "$RUN/pg/data" -m fast -w stop >/dev/null 2>&1 || true; fi
}

start() {
  [ -d "$DIR/node_modules/@medusajs/medusa" ] || { log "rode antes: $0 install"; exit 1; }
  # the project's own files may be newer than the installed copy
  cp "$HERE/medusa-config.js" "$DIR/" && rm -rf "$DIR/src" && cp -r "$HERE/src" "$DIR/src"
  stop
  rm -rf "$RUN" && mkdir -p "$RUN/pg"
  local t0=$SECONDS pg_port redis_port http_port
  pg_port=$(free_port); redis_port=$(free_port); http_port=$(free_port)
  [ "$(id -u)" -eq 0 ] && chown -R postgres "$RUN/pg"
  as_pg "$PGBIN/initdb" -D "$RUN/pg/data" -A trust -U postgres >"$RUN/initdb.log" 2>&1
  as_pg "$PGBIN/pg_ctl" -D "$RUN/pg/data" -l "$RUN/pg/postgres.log" -w start \
    -o "-p $pg_port -k $RUN/pg -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" >/dev/null
  "$PGBIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres medusa
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --pidfile "$RUN/redis.pid" --logfile "$RUN/redis.log"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/medusa" REDIS_URL="redis://127.0.0.1:$redis_port"
  export JWT_SECRET="helio-core-$RANDOM$RANDOM" COOKIE_SECRET="helio-core-$RANDOM$RANDOM" NODE_ENV=production
  cd "$DIR"
  npx medusa db:migrate >"$RUN/migrate.log" 2>&1 || { tail -30 "$RUN/migrate.log" >&2; exit 1; }
  npx medusa user -e "$ADMIN_EMAIL" -p "$ADMIN_PASSWORD" >"$RUN/user.log" 2>&1 || { tail -30 "$RUN/user.log" >&2; exit 1; }
  PORT=$http_port setsid nohup npx medusa start >"$RUN/medusa.log" 2>&1 &
  echo $! >"$RUN/medusa.pid"
  for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$http_port/health" >/dev/null; then
      cat >"$RUN/env" <<EOF
MEDUSA_URL=http://127.0.0.1:$http_port
MEDUSA_ADMIN_EMAIL=$ADMIN_EMAIL
MEDUSA_ADMIN_PASSWORD=$ADMIN_PASSWORD
EOF
      log "Medusa 2.8.4 em http://127.0.0.1:$http_port (PostgreSQL :$pg_port, Redis :$redis_port) em $((SECONDS - t0)) s"
      return 0
    fi
    kill -0 "$(cat "$RUN/medusa.pid")" 2>/dev/null || break
    sleep 1
  done
  tail -40 "$RUN/medusa.log" >&2
  log "o Medusa não ficou pronto"; stop; exit 1
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "uso: $0 install|start|stop" >&2; exit 2 ;;
esac
