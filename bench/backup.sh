#!/usr/bin/env bash
# Backup and restore figures for Beacon Spear: time and archive size of
# `beacon backup` for BENCH_MESSAGES messages (default 100 000, each with one
# queued delivery), and time of `beacon restore` into a fresh place, on
# SQLite and PostgreSQL.
#
#   bench/backup.sh                   # both databases
#   bench/backup.sh sqlite            # one of them
#   BENCH_MESSAGES=20000 bench/backup.sh postgres
#
# The messages go in through the real ingest API (wrk with bench/ingest.lua,
# ~400-byte alerts with tags and extras) against `beacon web` (no worker, so
# every delivery stays queued, as pending work would be in a backup). The
# backup runs against the live server; the restore goes into a new data
# directory (PostgreSQL: a new database) and is checked by counting rows.
# Everything started here is removed on exit. It installs nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="$ROOT/bench"
MESSAGES="${BENCH_MESSAGES:-100000}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
DATABASES=("$@")
[ ${#DATABASES[@]} -eq 0 ] && DATABASES=(sqlite postgres)

log() { printf '[backup-bench] %s\n' "$*" >&2; }
die() { printf '[backup-bench] error: %s\n' "$*" >&2; exit 1; }

for db in "${DATABASES[@]}"; do
  case "$db" in sqlite|postgres) ;; *) die "unknown database '$db' (use sqlite and/or postgres)";; esac
done
[[ "$MESSAGES" =~ ^[1-9][0-9]*$ ]] || die "BENCH_MESSAGES must be a positive integer"
command -v wrk >/dev/null || die "wrk is not installed; install it with: apt-get install wrk"
command -v curl >/dev/null || die "curl is not installed; install it with: apt-get install curl"
command -v python3 >/dev/null || die "python3 is not installed; install it with: apt-get install python3"
if [[ " ${DATABASES[*]} " == *" postgres "* ]]; then
  for tool in initdb pg_ctl createdb psql pg_dump pg_restore; do
    [ -x "$PG_BIN/$tool" ] || die "$PG_BIN/$tool not found; install PostgreSQL (apt-get install postgresql-15) or set PG_BIN"
  done
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' OS user for initdb"
  fi
fi

if [ -n "${BEACON_BIN:-}" ]; then
  BIN="$BEACON_BIN"
else
  log "building: cargo build --release -p beacon-host"
  (cd "$ROOT" && cargo build --release -p beacon-host) || die "build failed"
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/beacon"
fi
[ -x "$BIN" ] || die "server binary not found: $BIN"

SERVER_PID=""
PG_DIR=""
WORK_DIR=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; fi
  if [ -n "$PG_DIR" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"; PG_DIR=""
  fi
  if [ -n "$WORK_DIR" ]; then rm -rf "$WORK_DIR"; WORK_DIR=""; fi
}
trap cleanup EXIT
trap 'log "interrupted; cleaning up"; exit 130' INT TERM HUP

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1000000 }'; }

start_postgres() {
  PG_DIR="$(mktemp -d /tmp/beacon-backup-bench-pg.XXXXXX)"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PG_DIR"; fi
  chmod 700 "$PG_DIR"
  PG_PORT="$(free_port)"
  as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U beacon --auth=trust -E UTF8 --no-instructions >"$WORK_DIR/initdb.log" 2>&1 ||
    { cat "$WORK_DIR/initdb.log" >&2; die "initdb failed"; }
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_wal_size=4GB" start >/dev/null ||
    { cat "$PG_DIR/postgres.log" >&2; die "PostgreSQL did not start"; }
  as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U beacon beacon || die "createdb failed"
  as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U beacon restored || die "createdb failed"
}

psql_value() { as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U beacon -d "$1" -Atc "$2"; }

count_rows() { # count_rows <place> <table>
  if [ "$DB" = sqlite ]; then
    python3 - "$1/beacon.db" "$2" <<'EOF'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], timeout=30)
print(con.execute(f"SELECT COUNT(*) FROM {sys.argv[2]}").fetchone()[0])
EOF
  else
    psql_value "$1" "SELECT COUNT(*) FROM $2"
  fi
}

RESULTS=()
run() {
  DB="$1"
  WORK_DIR="$(mktemp -d /tmp/beacon-backup-bench.XXXXXX)"
  mkdir -p "$WORK_DIR/data" "$WORK_DIR/restored"
  local port; port="$(free_port)"
  local env=(-u DATABASE_URL BEACON_DATA_DIR="$WORK_DIR/data" BEACON_LISTEN="127.0.0.1:$port"
    INGEST_RATE_LIMIT_PER_MINUTE=0 AUTH_RATE_LIMIT_PER_IP_PER_MINUTE=1000 BEACON_LOG_FORMAT=text RUST_LOG=warn)
  local source_place="$WORK_DIR/data" restored_place="$WORK_DIR/restored"
  local restore_env=(-u DATABASE_URL BEACON_DATA_DIR="$WORK_DIR/restored" BEACON_LOG_FORMAT=text RUST_LOG=warn)
  local pg_args=()
  if [ "$DB" = postgres ]; then
    start_postgres
    env+=(DATABASE_URL="postgres://beacon@127.0.0.1:$PG_PORT/beacon")
    restore_env+=(DATABASE_URL="postgres://beacon@127.0.0.1:$PG_PORT/restored")
    source_place=beacon restored_place=restored
    pg_args=(--pg-bin "$PG_BIN")
  fi

  env "${env[@]}" "$BIN" user create --email bench@example.com --password 'bench-password-123' --verified >/dev/null ||
    die "beacon user create failed"
  env "${env[@]}" "$BIN" web >"$WORK_DIR/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    curl -fsS --max-time 1 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK_DIR/server.log" >&2; die "server exited"; }
    sleep 0.1
  done
  local base="http://127.0.0.1:$port" token created endpoint_id key channel_id
  token="$(curl -fsS -H 'Content-Type: application/json' -d '{"email":"bench@example.com","password":"bench-password-123"}' \
    "$base/api/auth/login" | json_field 'd["access_token"]')"
  created="$(curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $token" -d '{"name":"bench"}' "$base/api/ingest-endpoints")"
  endpoint_id="$(json_field 'd["endpoint"]["id"]' <<<"$created")"
  key="$(json_field 'd["ingest_key"]' <<<"$created")"
  channel_id="$(curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
    -d '{"name":"ntfy","plugin":"ntfy","config":{"server_url":"https://ntfy.example.net/","topic":"bench"}}' \
    "$base/api/channels" | json_field 'd["id"]')"
  curl -fsS -o /dev/null -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
    -d "{\"name\":\"all\",\"enabled\":true,\"channel_id\":\"$channel_id\",\"filter\":{},\"extra_filters\":[],\"payload_template\":{}}" \
    "$base/api/rules" || die "creating the rule failed"

  log "[$DB] ingesting $MESSAGES messages through the API (wrk)"
  local stored=0 t0; t0="$(now)"
  while [ "$stored" -lt "$MESSAGES" ]; do
    BENCH_INGEST_PATH="/api/ingest/$endpoint_id" BENCH_ENDPOINT_ID="$endpoint_id" BENCH_INGEST_KEY="$key" \
      BENCH_RESULT_FILE="$WORK_DIR/wrk.result" \
      wrk -t2 -c32 -d3s --timeout 10s -s "$BENCH_DIR/ingest.lua" "$base" >"$WORK_DIR/wrk.out" 2>&1 ||
      { cat "$WORK_DIR/wrk.out" >&2; die "wrk failed"; }
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK_DIR/server.log" >&2; die "the server exited during the load"; }
    grep -q '^created=[1-9]' "$WORK_DIR/wrk.result" ||
      { cat "$WORK_DIR/wrk.out" "$WORK_DIR/wrk.result" >&2; tail -20 "$WORK_DIR/server.log" >&2; die "no message was acknowledged"; }
    stored="$(count_rows "$source_place" messages)"
    log "[$DB]   $stored stored"
  done
  log "[$DB] ingested in $(since "$t0") s"
  local size
  if [ "$DB" = sqlite ]; then
    # The database's own size (pages in use, the WAL's included), not the
    # WAL file, which only grows between checkpoints.
    size="$(python3 - "$WORK_DIR/data/beacon.db" <<'EOF'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], timeout=30)
print(con.execute("PRAGMA page_count").fetchone()[0] * con.execute("PRAGMA page_size").fetchone()[0])
EOF
)"
  else
    size="$(psql_value beacon "SELECT pg_database_size('beacon')")"
  fi
  local deliveries; deliveries="$(count_rows "$source_place" deliveries)"

  log "[$DB] beacon backup (server running)"
  t0="$(now)"
  env "${env[@]}" "$BIN" backup --out "$WORK_DIR/backup.tar.gz" "${pg_args[@]}" >&2 || die "backup failed"
  local backup_s; backup_s="$(since "$t0")"
  local archive; archive="$(stat -c %s "$WORK_DIR/backup.tar.gz")"

  log "[$DB] beacon backup again while wrk keeps ingesting"
  BENCH_INGEST_PATH="/api/ingest/$endpoint_id" BENCH_ENDPOINT_ID="$endpoint_id" BENCH_INGEST_KEY="$key" \
    BENCH_RESULT_FILE="$WORK_DIR/load.result" \
    wrk -t2 -c32 -d8s --timeout 10s -s "$BENCH_DIR/ingest.lua" "$base" >"$WORK_DIR/load.out" 2>&1 &
  local wrk_pid=$!
  sleep 2
  t0="$(now)"
  env "${env[@]}" "$BIN" backup --out "$WORK_DIR/under-load.tar.gz" "${pg_args[@]}" >&2 || die "backup under load failed"
  local load_s; load_s="$(since "$t0")"
  wait "$wrk_pid" || die "wrk failed"
  local load_rate; load_rate="$(sed -n 's/^acked_per_s=//p' "$WORK_DIR/load.result")"
  log "[$DB] backup under load: $load_s s; ingest meanwhile: $load_rate acked/s over the 8 s run"

  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  log "[$DB] beacon restore into a fresh place"
  t0="$(now)"
  env "${restore_env[@]}" "$BIN" restore "$WORK_DIR/backup.tar.gz" "${pg_args[@]}" >&2 || die "restore failed"
  local restore_s; restore_s="$(since "$t0")"
  local restored; restored="$(count_rows "$restored_place" messages)"
  local restored_deliveries; restored_deliveries="$(count_rows "$restored_place" deliveries)"
  local check=ok
  if [ "$restored" != "$stored" ] || [ "$restored_deliveries" != "$deliveries" ]; then check="FAILED"; fi
  RESULTS+=("$DB $stored $(mb "$size") $backup_s $(mb "$archive") $restore_s $load_s $load_rate $check")
  cleanup
}

for db in "${DATABASES[@]}"; do run "$db"; done

printf '\n%-9s %9s %8s %9s %10s %10s %12s %14s %s\n' database messages "db MB" "backup s" "archive MB" "restore s" "backup@load s" "ingest@load/s" check
for line in "${RESULTS[@]}"; do
  # shellcheck disable=SC2086
  printf '%-9s %9s %8s %9s %10s %10s %12s %14s %s\n' $line
done
for line in "${RESULTS[@]}"; do [[ "$line" == *FAILED* ]] && exit 1; done
exit 0
