#!/usr/bin/env bash
# Ingest benchmark for Beacon Spear: acknowledged (201) messages per second and
# latency of POST /api/ingest/{endpoint_id} on SQLite and PostgreSQL.
#
#   bench/ingest.sh                  # both databases
#   bench/ingest.sh sqlite           # one of them
#   BENCH_RUNS=3 BENCH_DURATION=20s bench/ingest.sh sqlite postgres
#   BENCH_PROTOCOL=ntfy bench/ingest.sh sqlite   # ntfy, gotify or bark: a compatible route
#
# See bench/README.md for every knob. Everything this script starts (server,
# PostgreSQL cluster, temp dirs) is removed on exit, including on Ctrl-C.
# It installs nothing: a missing tool is reported with the command to get it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="$ROOT/bench"

DURATION="${BENCH_DURATION:-20s}"
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
RUNS="${BENCH_RUNS:-1}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
TARGET_SQLITE="${BENCH_TARGET_SQLITE:-10000}"
TARGET_POSTGRES="${BENCH_TARGET_POSTGRES:-6000}"
TARGET_P99_MS="${BENCH_TARGET_P99_MS:-20}"
NICE_CMD=()
if [ -n "${BENCH_NICE:-}" ]; then NICE_CMD=(nice -n "$BENCH_NICE"); fi
DATABASES=("$@")
[ ${#DATABASES[@]} -eq 0 ] && DATABASES=(sqlite postgres)

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# --- prerequisites (nothing is installed silently) ---------------------------
for db in "${DATABASES[@]}"; do
  case "$db" in sqlite|postgres) ;; *) die "unknown database '$db' (use sqlite and/or postgres)";; esac
done
command -v wrk >/dev/null || die "wrk is not installed; install it with: apt-get install wrk"
command -v curl >/dev/null || die "curl is not installed; install it with: apt-get install curl"
command -v python3 >/dev/null || die "python3 is not installed; install it with: apt-get install python3"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
if [ ${#NICE_CMD[@]} -gt 0 ]; then
  [[ "$BENCH_NICE" =~ ^-?[0-9]+$ ]] || die "BENCH_NICE must be an integer (e.g. -10)"
  if [ "$BENCH_NICE" -lt 0 ] && [ "$(id -u)" -ne 0 ]; then die "a negative BENCH_NICE needs root"; fi
fi
# With autogroup scheduling (Linux default on desktops/VMs) CPU is shared fairly
# between sessions first, so a per-process nice alone does not shield the run
# from another session's build. BENCH_NICE therefore also sets this session's
# autogroup nice for the duration of the script and restores it on exit.
AUTOGROUP_ORIG=""
set_autogroup_nice() {
  [ -w "/proc/$$/autogroup" ] || return 0
  AUTOGROUP_ORIG="$(sed -n 's/.* nice \(-\{0,1\}[0-9]*\)$/\1/p' "/proc/$$/autogroup")"
  if echo "$BENCH_NICE" >"/proc/$$/autogroup" 2>/dev/null; then
    log "this session's autogroup nice: ${AUTOGROUP_ORIG:-?} -> $BENCH_NICE (restored on exit)"
  else
    AUTOGROUP_ORIG=""
  fi
}
if [[ " ${DATABASES[*]} " == *" postgres "* ]]; then
  [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] ||
    die "PostgreSQL server binaries not found in PG_BIN=$PG_BIN; install them with: apt-get install postgresql-15 (or set PG_BIN)"
  PSQL="$PG_BIN/psql"; [ -x "$PSQL" ] || PSQL="$(command -v psql || true)"
  [ -n "$PSQL" ] || die "psql not found; install it with: apt-get install postgresql-client"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' OS user for initdb (apt-get install postgresql-15 creates it)"
    command -v runuser >/dev/null || die "runuser not found (package util-linux)"
  fi
fi

# Seconds of the wrk duration (accepts 20, 20s, 2m).
duration_seconds() {
  local d="$1"
  case "$d" in
    *m) echo $(( ${d%m} * 60 ));;
    *s) echo "${d%s}";;
    *)  echo "$d";;
  esac
}
DURATION_S="$(duration_seconds "$DURATION")"
[[ "$DURATION_S" =~ ^[1-9][0-9]*$ ]] || die "BENCH_DURATION must look like 20s, 20 or 2m"
PG_WARMUP_S="$(duration_seconds "${BENCH_PG_WARMUP:-$DURATION}")"
[[ "$PG_WARMUP_S" =~ ^[0-9]+$ ]] || die "BENCH_PG_WARMUP must look like 10s, 10, 0 or 1m"

# --- build ---------------------------------------------------------------------
if [ -n "${BEACON_BIN:-}" ]; then
  BIN="$BEACON_BIN"
else
  log "building: cargo build --release -p beacon-host"
  (cd "$ROOT" && cargo build --release -p beacon-host) || die "build failed"
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/beacon"
fi
[ -x "$BIN" ] || die "server binary not found or not executable: $BIN"

# --- cleanup of everything started here ------------------------------------------
SERVER_PID=""
WRK_PID=""
PG_DIR=""
WORK_DIR=""
CLEANED=0

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

stop_postgres() {
  if [ -n "$PG_DIR" ]; then
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then
      as_pg timeout 40 "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_DIR"
  fi
  PG_DIR=""
}

cleanup() {
  [ "$CLEANED" -eq 1 ] && return
  CLEANED=1
  if [ -n "$WRK_PID" ]; then kill -TERM "$WRK_PID" 2>/dev/null || true; wait "$WRK_PID" 2>/dev/null || true; fi
  stop_server
  stop_postgres
  if [ -n "$WORK_DIR" ]; then rm -rf "$WORK_DIR"; fi
  WORK_DIR=""
  if [ -n "$AUTOGROUP_ORIG" ]; then echo "$AUTOGROUP_ORIG" >"/proc/$$/autogroup" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'log "interrupted; cleaning up"; exit 130' INT TERM HUP

# --- helpers ---------------------------------------------------------------------
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

json_field() { # json_field <python expression on d> ; reads JSON on stdin
  python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# CPU ticks (user+system) of one process; "tree" adds its reaped children, "children" is only those.
proc_ticks() {
  local pid="$1" mode="${2:-self}"
  [ -r "/proc/$pid/stat" ] || { echo 0; return; }
  local rest
  rest="$(sed 's/^.*) //' "/proc/$pid/stat")"
  # after "pid (comm) " the fields start at 3 (state); utime=14 stime=15 cutime=16 cstime=17
  awk -v mode="$mode" '{ t = $12 + $13; if (mode == "tree") t += $14 + $15; if (mode == "children") t = $14 + $15; print t }' <<<"$rest"
}

# Ticks of the PostgreSQL cluster: postmaster (with reaped children) plus live backends.
pg_ticks() {
  local pm total=0 child
  pm="$(head -1 "$PG_DIR/data/postmaster.pid" 2>/dev/null || true)"
  [ -n "$pm" ] || { echo 0; return; }
  total="$(proc_ticks "$pm" tree)"
  for child in $(ps -o pid= --ppid "$pm" 2>/dev/null); do
    total=$(( total + $(proc_ticks "$child") ))
  done
  echo "$total"
}

# Busy and total jiffies of the whole machine (all cores).
sys_ticks() {
  awk '/^cpu /{ busy = $2 + $3 + $4 + $7 + $8 + $9; total = busy + $5 + $6; print busy, total }' /proc/stat
}

start_postgres() {
  PG_DIR="$(mktemp -d /tmp/beacon-bench-pg.XXXXXX)"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PG_DIR"; fi
  chmod 700 "$PG_DIR"
  local port; port="$(free_port)"
  as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U beacon --auth=trust -E UTF8 --no-instructions >"$WORK_DIR/initdb.log" 2>&1 ||
    { cat "$WORK_DIR/initdb.log" >&2; die "initdb failed"; }
  # Loopback only, socket in the temp dir, durability settings left at their defaults (fsync on).
  local as_owner=()
  if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u postgres --); fi
  "${NICE_CMD[@]}" "${as_owner[@]}" timeout 60 "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=on -c synchronous_commit=on -c min_wal_size=1GB -c max_wal_size=4GB ${BENCH_PG_OPTIONS:-}" start >/dev/null ||
    { cat "$PG_DIR/postgres.log" >&2 2>/dev/null; die "PostgreSQL did not start"; }
  as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U beacon beacon || die "createdb failed"
  PG_PORT="$port"
  DB_URL="postgres://beacon@127.0.0.1:$port/beacon"
}

# The environment of every beacon process of the current run.
beacon_env() {
  BEACON_ENV=(
    -u DATABASE_URL
    BEACON_LISTEN="127.0.0.1:$PORT"
    BEACON_DATA_DIR="$WORK_DIR/data"
    APP_BASE_URL="http://127.0.0.1:$PORT"
    JWT_REFRESH_COOKIE_SECURE=false
    INGEST_RATE_LIMIT_PER_MINUTE=0
    AUTH_RATE_LIMIT_PER_IP_PER_MINUTE=1000
    BEACON_LOG_FORMAT="${BEACON_LOG_FORMAT:-json}"
  )
  if [ "$DB" = postgres ]; then BEACON_ENV+=(DATABASE_URL="$DB_URL"); fi
}

count_stored() {
  if [ "$DB" = sqlite ]; then
    python3 - "$WORK_DIR/data/beacon.db" <<'EOF'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], timeout=30)
print(con.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
con.close()
EOF
  else
    as_pg "$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U beacon -d beacon -Atc "SELECT COUNT(*) FROM messages"
  fi
}

RESULTS=()   # one line per run: db run acked/s p50 p99 non201 sockerr acked stored check cpu...
FAILED_CHECK=0

run_once() {
  DB="$1"; local run="$2"
  WORK_DIR="$(mktemp -d /tmp/beacon-bench.XXXXXX)"
  mkdir -p "$WORK_DIR/data"
  PORT="$(free_port)"
  if [ "$DB" = postgres ]; then start_postgres; fi

  log "[$DB run $run] creating a verified user"
  beacon_env
  env "${BEACON_ENV[@]}" "$BIN" user create --email bench@example.com --password 'bench-password-123' --verified >"$WORK_DIR/user.log" 2>&1 ||
    { cat "$WORK_DIR/user.log" >&2; die "beacon user create failed"; }

  log "[$DB run $run] starting server on 127.0.0.1:$PORT (log: server.log in the temp dir)"
  # env execs the server, so $! is the server's own pid (signals and CPU accounting).
  "${NICE_CMD[@]}" env "${BEACON_ENV[@]}" "$BIN" serve >"$WORK_DIR/server.log" 2>&1 &
  SERVER_PID=$!
  local ready=0
  for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK_DIR/server.log" >&2; die "server exited during start"; }
    if curl -fsS --max-time 1 "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.1
  done
  [ "$ready" -eq 1 ] || { tail -20 "$WORK_DIR/server.log" >&2; die "server not healthy after 30 s"; }

  local token created endpoint_id ingest_key
  token="$(curl -fsS --max-time 10 -H 'Content-Type: application/json' \
      -d '{"email":"bench@example.com","password":"bench-password-123"}' \
      "http://127.0.0.1:$PORT/api/auth/login" | json_field 'd["access_token"]')" || die "login failed"
  created="$(curl -fsS --max-time 10 -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
      -d '{"name":"bench"}' "http://127.0.0.1:$PORT/api/ingest-endpoints")" || die "creating the ingest endpoint failed"
  endpoint_id="$(json_field 'd["endpoint"]["id"]' <<<"$created")"
  ingest_key="$(json_field 'd["ingest_key"]' <<<"$created")"

  # One request by hand first, so a broken setup fails loudly instead of as 100 % non-201.
  local probe
  probe="$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
      -H 'Content-Type: application/json' -H "X-Beacon-Ingest-Key: $ingest_key" \
      -d '{"body":"bench probe"}' "http://127.0.0.1:$PORT/api/ingest/$endpoint_id")"
  [ "$probe" = 201 ] || die "probe ingest answered $probe instead of 201"

  # PostgreSQL: a fresh cluster creates (and zero-fills) a new 16 MB WAL
  # segment about every second under this load, which stalls the commits in
  # flight for ~30 ms; a server that has been running recycles old segments
  # at its checkpoints instead. So a warm-up load as long as the measured run
  # goes first, and a CHECKPOINT recycles its WAL (min_wal_size keeps it), as
  # in steady operation. BENCH_PG_WARMUP=0 measures the cold cluster.
  local probe_rows=1
  if [ "$DB" = postgres ] && [ "$PG_WARMUP_S" -gt 0 ]; then
    log "[$DB run $run] warm-up: wrk for ${PG_WARMUP_S}s, then CHECKPOINT"
    BENCH_INGEST_PATH="/api/ingest/$endpoint_id" BENCH_ENDPOINT_ID="$endpoint_id" BENCH_INGEST_KEY="$ingest_key" BENCH_RESULT_FILE="$WORK_DIR/warmup.result" \
      timeout --kill-after=10 $(( PG_WARMUP_S + 60 )) \
      "${NICE_CMD[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${PG_WARMUP_S}s" --timeout 10s \
        -s "$BENCH_DIR/ingest.lua" "http://127.0.0.1:$PORT" >"$WORK_DIR/warmup.out" 2>&1 ||
      { cat "$WORK_DIR/warmup.out" >&2; die "warm-up wrk failed"; }
    as_pg "$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U beacon -d beacon -Atc "CHECKPOINT" >/dev/null || die "CHECKPOINT failed"
    probe_rows="$(count_stored)" || die "could not count stored messages"
  fi

  # Other load on the machine skews the figures: measure it for a second first.
  local idle_a idle_b pre_busy
  idle_a="$(sys_ticks)"; sleep 1; idle_b="$(sys_ticks)"
  pre_busy="$(awk -v a="$idle_a" -v b="$idle_b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; if (t <= 0) t = 1; printf "%.0f", 100 * (y[1] - x[1]) / t }')"
  if [ "$pre_busy" -gt 10 ]; then
    log "[$DB run $run] WARNING: the machine was ${pre_busy}% busy before the load started; other processes will skew this run"
  fi
  log "[$DB run $run] wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency"
  local before_srv before_pg=0 before_sys after_srv after_pg=0 after_sys
  before_srv="$(proc_ticks "$SERVER_PID")"
  if [ "$DB" = postgres ]; then before_pg="$(pg_ticks)"; fi
  before_sys="$(sys_ticks)"
  # wrk runs in the background and the script waits for it, so Ctrl-C reaches
  # the trap at once. This shell reaps wrk (through timeout), so the growth of
  # its children's CPU time (cutime + cstime) is wrk's CPU time.
  local before_children after_children t0 t1 wrk_rc=0
  before_children="$(proc_ticks $$ children)"
  t0="$(date +%s.%N)"
  BENCH_INGEST_PATH="/api/ingest/$endpoint_id" BENCH_ENDPOINT_ID="$endpoint_id" BENCH_INGEST_KEY="$ingest_key" BENCH_RESULT_FILE="$WORK_DIR/wrk.result" \
    timeout --kill-after=10 $(( DURATION_S + 60 )) \
    "${NICE_CMD[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency \
      -s "$BENCH_DIR/ingest.lua" "http://127.0.0.1:$PORT" >"$WORK_DIR/wrk.out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || wrk_rc=$?
  WRK_PID=""
  after_children="$(proc_ticks $$ children)"
  t1="$(date +%s.%N)"
  if [ "$wrk_rc" -ne 0 ] || [ ! -s "$WORK_DIR/wrk.result" ]; then
    cat "$WORK_DIR/wrk.out" >&2; die "wrk failed (exit $wrk_rc)"
  fi
  after_srv="$(proc_ticks "$SERVER_PID")"
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK_DIR/server.log" >&2; die "the server exited during the load"; }
  if [ "$DB" = postgres ]; then after_pg="$(pg_ticks)"; fi
  after_sys="$(sys_ticks)"
  if [ -n "${BENCH_VERBOSE:-}" ]; then cat "$WORK_DIR/wrk.out" >&2; fi

  # Read the Lua summary.
  local -A r=()
  local k v
  while IFS='=' read -r k v; do r[$k]="$v"; done <"$WORK_DIR/wrk.result"

  sleep 1 # requests still in flight when wrk stopped may commit now; they only add rows
  local stored
  stored="$(count_stored)" || die "could not count stored messages"
  stored=$(( stored - probe_rows ))
  local check=ok
  if [ "$stored" -lt "${r[created]}" ]; then check="FAILED(stored<acked)"; FAILED_CHECK=1; fi

  # CPU split during the wrk run, in cores (1.00 = one core busy the whole time).
  local hz wall wrk_cpu
  hz="$(getconf CLK_TCK)"
  wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
  wrk_cpu="$(awk -v a="$before_children" -v b="$after_children" -v hz="$hz" 'BEGIN { print (b - a) / hz }')"
  local cpu
  cpu="$(python3 - "$hz" "$wall" "$wrk_cpu" 0 "$before_srv" "$after_srv" "$before_pg" "$after_pg" $before_sys $after_sys "${r[created]}" "$(nproc)" <<'EOF'
import sys
hz, wall, wu, ws, bs, as_, bp, ap, bbusy, btot, abusy, atot, acked, ncpu = map(float, sys.argv[1:])
srv = (as_ - bs) / hz / wall
pg = (ap - bp) / hz / wall
wrk = (wu + ws) / wall
busy = (abusy - bbusy) / max(atot - btot, 1) * ncpu
other = max(busy - srv - pg - wrk, 0.0)
per_msg = (as_ - bs + ap - bp) / hz / max(acked, 1) * 1e6
print(f"server={srv:.2f} pg={pg:.2f} wrk={wrk:.2f} other={other:.2f} busy={busy:.2f}/{ncpu:.0f} | server+pg CPU/msg={per_msg:.0f}us")
EOF
)"
  RESULTS+=("$DB|$run|${r[acked_per_s]}|${r[p50_ms]}|${r[p99_ms]}|${r[non_201]}|${r[non_201_by_status]}|${r[socket_errors]}|${r[created]}|$stored|$check|$cpu")
  log "[$DB run $run] acked/s=${r[acked_per_s]} p50=${r[p50_ms]}ms p99=${r[p99_ms]}ms non-201=${r[non_201]} (${r[non_201_by_status]}) socket-errors=${r[socket_errors]} acked=${r[created]} stored=$stored $check; cores: $cpu"
  local problems
  problems="$(grep -E '"level":"(ERROR|WARN)"|\b(ERROR|WARN)\b' "$WORK_DIR/server.log" | grep -v JWT_SIGNING_KEY || true)"
  if [ -n "$problems" ]; then
    log "[$DB run $run] server logged $(wc -l <<<"$problems") warning/error lines, first ones:"
    head -5 <<<"$problems" >&2
  fi

  stop_server
  if [ -n "${BENCH_LOG_DIR:-}" ]; then
    mkdir -p "$BENCH_LOG_DIR"
    cp "$WORK_DIR/server.log" "$BENCH_LOG_DIR/$DB-run$run-server.log"
    cp "$WORK_DIR/wrk.out" "$BENCH_LOG_DIR/$DB-run$run-wrk.txt"
    if [ "$DB" = postgres ]; then cp "$PG_DIR/postgres.log" "$BENCH_LOG_DIR/$DB-run$run-postgres.log" 2>/dev/null || true; fi
  fi
  stop_postgres
  rm -rf "$WORK_DIR"; WORK_DIR=""
}

if [ ${#NICE_CMD[@]} -gt 0 ]; then set_autogroup_nice; fi
for db in "${DATABASES[@]}"; do
  for run in $(seq 1 "$RUNS"); do
    run_once "$db" "$run"
  done
done

# --- report ------------------------------------------------------------------------
echo
echo "Beacon Spear ingest benchmark (${BENCH_PROTOCOL:-native} route; non-201 means not the route's success status) — wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores shared by wrk and server"
printf '%-9s %3s %10s %8s %8s %8s %8s %10s %10s  %-6s %s\n' db run 'acked/s' 'p50 ms' 'p99 ms' 'non-201' 'sockerr' acked stored check 'CPU during the run (cores; other = processes not started here)'
for line in "${RESULTS[@]}"; do
  IFS='|' read -r db run rate p50 p99 non201 bystatus sockerr acked stored check cpu <<<"$line"
  printf '%-9s %3s %10s %8s %8s %8s %8s %10s %10s  %-6s %s\n' "$db" "$run" "$rate" "$p50" "$p99" "$non201" "$sockerr" "$acked" "$stored" "$check" "$cpu"
  if [ "$non201" != 0 ]; then echo "          non-201 by status: $bystatus"; fi
done
echo
echo "Targets: >= $TARGET_SQLITE acked/s on SQLite, >= $TARGET_POSTGRES on PostgreSQL, p99 <= $TARGET_P99_MS ms (medians of the runs):"
for db in "${DATABASES[@]}"; do
  python3 - "$db" "$TARGET_SQLITE" "$TARGET_POSTGRES" "$TARGET_P99_MS" "${RESULTS[@]}" <<'EOF'
import statistics, sys
db, t_sqlite, t_pg, t_p99 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rows = [l.split("|") for l in sys.argv[5:] if l.split("|")[0] == db]
rate = statistics.median(float(r[2]) for r in rows)
p99 = statistics.median(float(r[4]) for r in rows)
target = t_sqlite if db == "sqlite" else t_pg
ok_rate, ok_p99 = rate >= target, p99 <= t_p99
print(f"  {db:9s} median {rate:8.0f} acked/s ({'met' if ok_rate else 'MISSED'}, target {target:.0f}), "
      f"median p99 {p99:.2f} ms ({'met' if ok_p99 else 'MISSED'}, target {t_p99:.0f} ms)")
EOF
done
if [ "$FAILED_CHECK" -ne 0 ]; then
  echo "INTEGRITY CHECK FAILED: fewer messages stored than acknowledged"
  exit 1
fi
