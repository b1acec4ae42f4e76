#!/usr/bin/env bash
# A hundred dashboards (issue 26, points 2 and 5): the large demo on a local primary with a hot
# standby, a pgbouncer in transaction mode in front of each, the simulator writing, and 1, 10, 50
# and 100 dashboards sitting on the busiest lists (Executions and Fleet, alternately) for 60 s
# each: the real binary with its pollers, change feed and standby watch, not drawing
# (`--headless`), one process per dashboard. Once with the change feed LISTENing on the primary,
# once with the change clock read on the standby.
#
# Per run it reports the CPU time of all of the primary's processes and of the standby's
# (utime + stime from /proc, in % of one core), and the statements they ran per second
# (pg_stat_statements without utility statements: the BEGIN, SET LOCAL and COMMIT around each
# pooled statement are not counted), and the notifications one more listener hears per second,
# beside the simulator alone, measured first and last. Of the primary's CPU, the part its
# dashboards' sessions took (the processes that were not there before they started: their
# listeners and the pooler's server connections, started again for each run), which stays a fair
# measure when two cores are saturated and the simulator slows down.
#
#   bash benches/dashboards.sh [WORK_DIR]    (default /var/lib/fleetdeck/bench-dashboards; kept,
#                                            so a second run skips the seeding)
#   FLEETDECK_BENCH_COUNTS="1 10" FLEETDECK_BENCH_SECONDS=20 bash benches/dashboards.sh   (shorter)
#   FLEETDECK_BENCH_DESIGNS="listen-ungated listen" bash benches/dashboards.sh
#                                            (listen-ungated: every statement notifies, as before
#                                            migration 32's gate; the default: listen clock;
#                                            sessions, sessions-ungated: N listening sessions
#                                            without dashboards, each LISTENing and then idle)
#   FLEETDECK_BENCH_MAX_LAG=5s bash benches/dashboards.sh   (the dashboards' default lag limit; the
#                                            default here, 1h, keeps every read on the standby)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/fleetdeck
work=${1:-/var/lib/fleetdeck/bench-dashboards}
counts=${FLEETDECK_BENCH_COUNTS:-1 10 50 100}
designs=${FLEETDECK_BENCH_DESIGNS:-listen clock}
seconds=${FLEETDECK_BENCH_SECONDS:-60}
max_lag=${FLEETDECK_BENCH_MAX_LAG:-1h}
# fleetdeck reads every FLEETDECK_ variable as configuration.
unset FLEETDECK_BENCH_COUNTS FLEETDECK_BENCH_DESIGNS FLEETDECK_BENCH_SECONDS FLEETDECK_BENCH_SCALE FLEETDECK_BENCH_MAX_LAG
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pgbouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
as_server=()
[[ $(id -u) -eq 0 ]] && as_server=(runuser -u postgres --)
mkdir -p "$work"
rm -f "$work"/state/dash-*.log "$work"/state/dash-*.err
[[ $(id -u) -eq 0 ]] && chown postgres: "$work"
primary=$work/primary standby=$work/standby
export XDG_STATE_HOME=$work/state XDG_CONFIG_HOME=$work/config
unset DATABASE_URL

pg() { "${as_server[@]}" "$pgbin/$1" "${@:2}"; }
sql() { # DIR SQL
  "${as_server[@]}" "$pgbin/psql" -h "$1" -U fleetdeck -d fleetdeck -XAtqc "$2"
}

# 1. The primary: fleetdeck's own server with the large demo, seeded once.
if [[ ! -f $primary/seeded ]]; then
  rm -rf "$primary" "$standby"
  FLEETDECK_DATABASE__DATA_DIR=$primary "$bin" seed --demo --scale large
  touch "$primary/seeded"
fi
# fleetdeck's keeper stops its own server once no fleetdeck uses it: let it, then run the
# server here with the benchmark's settings.
for _ in $(seq 300); do pgrep -f "keep-server.*$primary" >/dev/null || break; sleep 0.1; done
cleanup() {
  pkill -f "fleetdeck --headless" 2>/dev/null || true
  [[ -n ${sim:-} ]] && kill "$sim" 2>/dev/null || true
  for d in "$work/bouncer-primary" "$work/bouncer-standby"; do
    [[ -f $d/pgbouncer.pid ]] && kill "$(cat "$d/pgbouncer.pid")" 2>/dev/null || true
  done
  [[ -n ${migrated_gate:-} ]] && gate "$migrated_gate" 2>/dev/null || true
  pg pg_ctl -D "$standby" -m fast stop >/dev/null 2>&1 || true
  pg pg_ctl -D "$primary" -m fast stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
pg pg_ctl -D "$primary" -m fast stop >/dev/null 2>&1 || true
pg pg_ctl -D "$primary" -l "$primary/fleetdeck-server.log" -w \
  -o "-c max_connections=800 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=off -c max_wal_size=4GB" start >/dev/null
sql "$primary" "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
# The schema this fleetdeck needs (a newer migration since the seeding); the standby replays it.
DATABASE_URL="postgres://fleetdeck@localhost/fleetdeck?host=$primary" "$bin" migrate --log-file "$work/state/migrate.log" >/dev/null
# The notification gate as migration 32 makes it (`fleetdeck.change_gate_ms()`), restored after
# a run that changes it: set here, not read back, so that a run killed with the gate at 0 does not
# leave it there for the next.
migrated_gate=100

# 2. The standby: a base backup streaming from the primary, on a socket of its own.
if [[ ! -f $standby/standby.signal ]]; then
  rm -rf "$standby"
  pg pg_basebackup -D "$standby" -h "$primary" -U fleetdeck -R -X stream -c fast
  rm -f "$standby/.s.PGSQL.5432.lock" "$standby/fleetdeck-server.log"
  printf "\nunix_socket_directories = '%s'\nhot_standby = on\n" "$standby" >> "$standby/postgresql.conf"
fi
# The standby, its pooler and the dashboards run at the lowest priority (nice 19): on a machine
# of two cores they stand for machines of their own, so that they do not starve the primary and
# the simulator, whose cost is what is measured (saturated, the simulator slowed to a fifth).
nice -n 19 "${as_server[@]}" "$pgbin/pg_ctl" -D "$standby" -l "$standby/server.log" -w \
  -o "-c max_connections=800 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=off" start >/dev/null

# 3. A pgbouncer in transaction mode in front of each.
bouncer() { # NAME SERVER_DIR
  local dir=$work/bouncer-$1
  mkdir -p "$dir"
  cat > "$dir/pgbouncer.ini" <<EOF
[databases]
* = host=$2 port=5432
[pgbouncer]
listen_addr =
listen_port = 6432
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
ignore_startup_parameters = extra_float_digits
EOF
  echo '"fleetdeck" ""' > "$dir/users.txt"
  [[ $(id -u) -eq 0 ]] && chown -R postgres: "$dir"
  local niceness=0
  [[ $1 == standby ]] && niceness=19
  nice -n "$niceness" "${as_server[@]}" "$pgbouncer" -d "$dir/pgbouncer.ini"
  for _ in $(seq 100); do [[ -S $dir/.s.PGSQL.6432 ]] && break; sleep 0.1; done
}
bouncer primary "$primary"
bouncer standby "$standby"
url() { echo "postgres://fleetdeck@localhost/fleetdeck?host=$1"; }
export DATABASE_URL="$(url "$work/bouncer-primary")&port=6432"
export FLEETDECK_DATABASE__POOLED=true
export FLEETDECK_DATABASE__REPLICA_URL="$(url "$work/bouncer-standby")&port=6432"
export FLEETDECK_DATABASE__DIRECT_URL="$(url "$primary")"
export FLEETDECK_DATABASE__MAX_CONNECTIONS=4
# Past this lag reads go to the primary (the dashboards' default is 5s). An overloaded standby
# lags, and its readers then load the primary: FLEETDECK_BENCH_MAX_LAG=5s shows that spill.
export FLEETDECK_DATABASE__REPLICA_MAX_LAG=$max_lag

# 4. The simulator, writing to the primary directly, all along.
(DATABASE_URL=$(url "$primary") FLEETDECK_DATABASE__POOLED=false FLEETDECK_DATABASE__REPLICA_URL= \
  "$bin" simulate --log-file "$work/state/sim.log" >/dev/null 2>&1) &
sim=$!
sleep 5

# Every process now, a line each: pid, parent pid, utime, stime, cutime, cstime (clock ticks;
# fields 1, 4 and 14-17 of /proc/PID/stat, read past the command name, which may hold spaces).
# Processes come and go while this reads: a stat file gone is skipped.
stats() {
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk '
    { pid = $1; line = $0; sub(/^[0-9]+ \(.*\) /, "", line); split(line, f, " ")
      print pid, f[2], f[12], f[13], f[14], f[15] }'
}
# CPU seconds (utime + stime, all threads) of a cluster's processes: the postmaster and its
# children; the postmaster also counts its exited children (cutime, cstime).
cpu() { # DATA_DIR
  stats | awk -v pm="$(head -1 "$1/postmaster.pid")" -v hz="$(getconf CLK_TCK)" '
    $1 == pm { total += $3 + $4 + $5 + $6 }
    $2 == pm { total += $3 + $4 }
    END { printf "%.3f\n", total / hz }'
}
statements() { # DATA_DIR
  sql "$1" "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
}
# The primary's processes now, one pid a line.
children() {
  stats | awk -v pm="$(head -1 "$primary/postmaster.pid")" '$2 == pm { print $1 }'
}
# CPU seconds of the primary's client sessions not in BEFORE_FILE: the sessions the dashboards
# opened there (their listeners, and the pooler's server connections their reads and writes
# made); not the autovacuum workers, which come and go.
dashboards_cpu() { # BEFORE_FILE
  local sessions=() p
  for p in $(children); do
    grep -qx "$p" "$1" && continue
    tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q '^postgres: fleetdeck fleetdeck' && sessions+=("$p")
  done
  stats | awk -v hz="$(getconf CLK_TCK)" -v pids="${sessions[*]:-}" '
    BEGIN { n = split(pids, list, " "); for (i = 1; i <= n; i++) session[list[i]] = 1 }
    $1 in session { total += $3 + $4 }
    END { printf "%.3f\n", total / hz }'
}
# The primary's pooler started again, so that the server connections of a run are its own.
rebounce() {
  local dir=$work/bouncer-primary
  [[ -f $dir/pgbouncer.pid ]] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
  for _ in $(seq 100); do [[ -S $dir/.s.PGSQL.6432 ]] || break; sleep 0.1; done
  bouncer primary "$primary"
}
# The notifications one more listener on the primary hears in SECONDS (psql prints each after
# the statement it arrived during).
notifications() { # SECONDS
  { echo "LISTEN fleetdeck_changes;"; for _ in $(seq "$1"); do echo "SELECT pg_sleep(1);"; done; } |
    "${as_server[@]}" "$pgbin/psql" -h "$primary" -U fleetdeck -d "dbname=fleetdeck application_name=bench-counter" -XAtq 2>&1 |
    grep -c "Asynchronous notification" || true
}

# The notification gate's length (migration 32), set for a run: 0 notifies every statement, as
# before the gate. Restored to the migration's own (`migrated_gate`) at the end.
gate() { # MS
  sql "$primary" "CREATE OR REPLACE FUNCTION fleetdeck.change_gate_ms() RETURNS integer LANGUAGE sql IMMUTABLE AS \$\$ SELECT $1 \$\$" >/dev/null
}

measure() { # DESIGN N
  local design=$1 n=$2 pids=() feed=$1
  case $design in
    *-ungated) feed=${design%-ungated}; gate 0 ;;
    *) gate "$migrated_gate" ;;
  esac
  rebounce
  sleep 2
  children > "$work/state/before"
  for i in $(seq "$n"); do
    local tab=executions
    (( i % 2 == 0 )) && tab=fleet
    if [[ $feed == sessions ]]; then
      # A dashboard's session on the primary alone: LISTEN, then idle (what a dashboard's
      # listener is), without the dashboard's reads, which saturate two cores at 100.
      # Its input a process substitution, not a pipe: the job is psql alone, so that waiting for
      # it once it is killed does not wait for the sleep too.
      "${as_server[@]}" "$pgbin/psql" -h "$primary" -U fleetdeck -d fleetdeck -XAtq >/dev/null 2>&1 \
        < <(echo "LISTEN fleetdeck_changes;"; sleep $((seconds + 300))) &
    else
      FLEETDECK_DATABASE__CHANGE_FEED=$feed nice -n 19 "$bin" --headless $((seconds + 300)) --tab "$tab" \
        --log-file "$work/state/dash-$i.log" >/dev/null 2>"$work/state/dash-$i.err" &
    fi
    pids+=($!)
    sleep 0.2
  done
  sleep 30 # every dashboard started and read its first pages
  local c0p c0s s0p s0s c1p c1s s1p s1s
  notifications "$seconds" > "$work/state/notifications" &
  local heard=$!
  sleep 1
  # The counting listener is not a dashboard.
  sql "$primary" "SELECT pid FROM pg_stat_activity WHERE application_name = 'bench-counter'" >> "$work/state/before"
  local d0 d1
  c0p=$(cpu "$primary"); c0s=$(cpu "$standby"); s0p=$(statements "$primary"); s0s=$(statements "$standby")
  d0=$(dashboards_cpu "$work/state/before")
  sleep "$seconds"
  c1p=$(cpu "$primary"); c1s=$(cpu "$standby"); s1p=$(statements "$primary"); s1s=$(statements "$standby")
  d1=$(dashboards_cpu "$work/state/before")
  local alive=0
  for p in "${pids[@]:-}"; do [[ -n $p ]] && kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
  wait "$heard" || true
  # Why a dashboard ended early, if one did.
  (( alive < n )) && cat "$work"/state/dash-*.err 2>/dev/null | sort | uniq -c | sort -rn | head -3 >&2
  if (( n > 0 )); then
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait "${pids[@]}" 2>/dev/null || true
  fi
  awk -v d="$design" -v n="$n" -v alive="$alive" -v s="$seconds" \
      -v cp="$(awk -v a="$c0p" -v b="$c1p" 'BEGIN{print b-a}')" -v cs="$(awk -v a="$c0s" -v b="$c1s" 'BEGIN{print b-a}')" \
      -v cd="$(awk -v a="$d0" -v b="$d1" 'BEGIN{print b-a}')" \
      -v sp="$((s1p - s0p))" -v ss="$((s1s - s0s))" -v heard="$(cat "$work/state/notifications")" \
    'BEGIN { printf "| %s | %d (%d running at the end) | %.1f %% | %.1f %% | %.0f | %.1f | %.1f %% | %.0f |\n", d, n, alive, 100*cp/s, 100*cd/s, sp/s, heard/s, 100*cs/s, ss/s }'
  sleep 3
}

echo "| change feed | dashboards | primary CPU (% of a core) | of it, the dashboards' sessions | primary statements/s | notifications/s | standby CPU | standby statements/s |"
echo "|---|---|---|---|---|---|---|---|"
measure "none (the simulator alone)" 0
for design in $designs; do
  for n in $counts; do
    measure "$design" "$n"
  done
done
measure "none (the simulator alone, again)" 0
gate "$migrated_gate"
