#!/usr/bin/env bash
# Many connections: one `wsgibench load` holding as many concurrent keep-alive
# connections as the open-files limit allows (default: hard limit - 1000, i.e.
# 19 000 where `ulimit -Hn` is 20 000) to a private nginx on 127.0.0.1.
#
# The generator runs the open model (--rate), which opens every connection before
# the first planned instant; the rate, 2 * N / DURATION by default, gives every
# connection about two requests over the run, so they are idle keep-alive
# connections most of the time (as in idle-memory.sh). While it runs, `ss` is
# polled every 0.25 s for the connections established to nginx's port:
#   connect rate = N / (seconds from the generator's launch until all N are up)
# Once all are up the generator's VmRSS is sampled six times over 3 s (largest
# kept), and so is a baseline run with 10 connections at the same rate:
#   RSS per connection = (RSS(N) - RSS(10)) / (N - 10)
# Errors come from the run's --json summary (by kind), as do the connections the
# engine counted as opened. The source addresses of the established connections
# are counted from `ss` too.
#
# With --ports P the whole benchmark runs inside a network namespace it creates
# (`unshare -n`, needs root) whose ip_local_port_range holds only P ports, so one
# source address cannot hold N connections and wsgibench must spread them over
# 127.0.0.x. The machine's own range is never touched.
#
# Usage: bench/many-connections.sh [-c N] [-d SECONDS] [--rate R] [-t THREADS]
#            [--ports P] [--server-cpu N] [--gen-cpu N] [--out DIR] [--no-build]
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/lib-nginx.sh"

BIG=
DURATION=30
THREADS=1
PORTS=
SERVER_CPU=${SERVER_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
OUT_DIR=
BUILD=1
WSGIBENCH=${WSGIBENCH:-$ROOT/target/release/wsgibench}
ARGS=("$@")

while [ $# -gt 0 ]; do
    case $1 in
        -c|--connections) BIG=$2; shift 2 ;;
        -d|--duration) DURATION=${2%s}; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        -t|--threads) THREADS=$2; shift 2 ;;
        --ports) PORTS=$2; shift 2 ;;
        --server-cpu) SERVER_CPU=$2; shift 2 ;;
        --gen-cpu) GEN_CPU=$2; shift 2 ;;
        --out) OUT_DIR=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "many-connections.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

for t in taskset curl python3 ss; do
    command -v "$t" >/dev/null || { echo "many-connections.sh: needs $t" >&2; exit 2; }
done

if [ -n "$PORTS" ] && [ -z "${MANYCONN_IN_NETNS:-}" ]; then
    # Build outside (the namespace has no network), then run this script in a new
    # network namespace with its own loopback and port range.
    if [ "$BUILD" = 1 ]; then
        echo "building wsgibench (release)..." >&2
        (cd "$ROOT" && timeout 1200 cargo build --release -p wsgibench -q) || {
            echo "many-connections.sh: cargo build failed" >&2; exit 1; }
    fi
    [ "$(id -u)" = 0 ] || { echo "many-connections.sh: --ports needs root (unshare -n)" >&2; exit 2; }
    command -v unshare >/dev/null && command -v ip >/dev/null || {
        echo "many-connections.sh: --ports needs unshare and ip" >&2; exit 2; }
    exec env MANYCONN_IN_NETNS=1 unshare -n -- bash "$0" "${ARGS[@]}" --no-build
fi
if [ -n "${MANYCONN_IN_NETNS:-}" ]; then
    ip link set lo up || exit 1
    echo "40000 $((40000 + PORTS - 1))" > /proc/sys/net/ipv4/ip_local_port_range || exit 1
    echo "in a new network namespace: ip_local_port_range $(cat /proc/sys/net/ipv4/ip_local_port_range | tr '\t' ' ') ($PORTS ports)" >&2
fi

if [ "$BUILD" = 1 ]; then
    echo "building wsgibench (release)..." >&2
    (cd "$ROOT" && timeout 1200 cargo build --release -p wsgibench -q) || {
        echo "many-connections.sh: cargo build failed" >&2; exit 1; }
fi
[ -x "$WSGIBENCH" ] || { echo "many-connections.sh: no $WSGIBENCH" >&2; exit 2; }

HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=1048576
BIG=${BIG:-$((HARD - 1000))}
ulimit -n "$HARD" 2>/dev/null
echo "fd limit: hard $HARD; generator and nginx are separate processes, each needs ~$BIG" >&2
RATE=${RATE:-$((2 * BIG / DURATION))}
echo "open model: $BIG connections, $RATE req/s in total for ${DURATION}s, $THREADS thread(s)" >&2

WORK=$(mktemp -d /tmp/wsgibench-many.XXXXXX)
[ -n "$OUT_DIR" ] || OUT_DIR=$WORK
mkdir -p "$OUT_DIR"
CSV=$OUT_DIR/many-connections.csv
trap stop_generator_and_nginx EXIT
trap 'exit 130' INT TERM

# In the namespace the port is outside the cut range, so it takes none of its ports.
if [ -n "${MANYCONN_IN_NETNS:-}" ]; then PORT=8080; else PORT=$(free_port); fi
URL=http://127.0.0.1:$PORT/
# nginx starts closing idle keep-alive connections once 15/16 of its
# worker_connections are in use ("worker_connections are not enough, reusing
# connections"), so it gets 16/15 of N and more; its descriptors stay capped at the
# hard limit.
nginx_start "$WORK" "$PORT" "$SERVER_CPU" $((BIG * 16 / 15 + 1000)) || exit 1
echo "nginx pid $NGINX_PID on $URL (CPU $SERVER_CPU); generator on CPU $GEN_CPU" >&2

established() {
    ss -Htn state established "( dport = :$PORT )" 2>/dev/null | wc -l
}

# measure N: one run with N connections; sets M_RSS M_EST M_UP_S M_SOURCES M_FDS.
measure() {
    local n=$1 base="$WORK/run.$1" i est=0 rss=0 fds=0 r up_s= t0 now
    local -a cmd=("$WSGIBENCH" load "$URL" -c "$n" -t "$THREADS" --rate "$RATE" -d "${DURATION}s"
                  -q --timeout 60s --interval 1s --json "$base.json")
    echo "  $ ${cmd[*]}" >&2
    t0=$(date +%s.%N)
    taskset -c "$GEN_CPU" "${cmd[@]}" > "$base.out" 2> "$base.err" &
    GEN_PID=$!
    # until all N are up, or half the run has passed (one `ss` over 19 000
    # connections takes a good part of a second on a busy machine: bound by time)
    for i in $(seq 1 $((DURATION * 4))); do
        sleep 0.25
        kill -0 "$GEN_PID" 2>/dev/null || break
        est=$(established)
        now=$(date +%s.%N)
        r=$(awk "BEGIN { printf \"%.2f\", $now - $t0 }")
        echo "$n,$r,$est" >> "$OUT_DIR/ramp.csv"
        if [ "$est" -ge "$n" ]; then
            up_s=$r
            break
        fi
        awk "BEGIN { exit !($r > $DURATION / 2) }" && break
    done
    M_SOURCES=$(ss -Htn state established "( dport = :$PORT )" 2>/dev/null \
        | awk '{ sub(/:[0-9]+$/, "", $3); print $3 }' | sort -u | tr '\n' ' ')
    for i in 1 2 3 4 5 6; do
        sleep 0.5
        kill -0 "$GEN_PID" 2>/dev/null || break
        r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$GEN_PID/status" 2>/dev/null || echo 0)
        [ -n "$r" ] && [ "$r" -gt "$rss" ] && rss=$r
        fds=$(ls "/proc/$GEN_PID/fd" 2>/dev/null | wc -l)
        est=$(established)
    done
    local waited=0
    while kill -0 "$GEN_PID" 2>/dev/null && [ $waited -lt $((DURATION * 10 + 600)) ]; do
        sleep 0.1; waited=$((waited + 1))
    done
    if kill -0 "$GEN_PID" 2>/dev/null; then kill -KILL "$GEN_PID"; fi
    wait "$GEN_PID" 2>/dev/null
    GEN_PID=
    M_RSS=$rss M_EST=$est M_UP_S=${up_s:-never} M_FDS=$fds
}

# summary FIELD FILE: a field of the --json summary (errors as kind=count).
summary() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
field, path = sys.argv[1], sys.argv[2]
try:
    s = json.load(open(path))
except Exception as e:
    print(f"no summary ({e})"); sys.exit(0)
if field == "errors":
    print(" ".join(f"{k}={v}" for k, v in sorted(s["errors"].items())) or "none")
else:
    print(s[field])
EOF
}

echo "connections,rss_kib,established_after_ramp,seconds_to_all_up,fds,opened,requests,errors,sources" > "$CSV"
echo "connections,seconds,established" > "$OUT_DIR/ramp.csv"
declare -A RSS UP
for n in 10 "$BIG"; do
    measure "$n"
    opened=$(summary connections_opened "$WORK/run.$n.json")
    requests=$(summary requests "$WORK/run.$n.json")
    errors=$(summary errors "$WORK/run.$n.json")
    RSS[$n]=$M_RSS UP[$n]=$M_UP_S
    echo "$n,$M_RSS,$M_EST,$M_UP_S,$M_FDS,$opened,$requests,$errors,$M_SOURCES" >> "$CSV"
    printf '  -c %-6s RSS %7s KiB  all up after %5s s  established %6s  fds %6s  opened %6s  requests %7s  errors %s\n' \
        "$n" "$M_RSS" "$M_UP_S" "$M_EST" "$M_FDS" "$opened" "$requests" "$errors" >&2
    printf '           source addresses: %s\n' "$M_SOURCES" >&2
    cp "$WORK/run.$n.json" "$OUT_DIR/" 2>/dev/null
    sleep 2
done

echo
per=$(python3 -c "print(f'{(${RSS[$BIG]} - ${RSS[10]}) / ($BIG - 10):.2f}')")
echo "RSS: ${RSS[10]} KiB at -c 10, ${RSS[$BIG]} KiB at -c $BIG  =>  $per KiB per connection"
if [ "${UP[$BIG]}" != never ]; then
    echo "connect rate: $BIG connections up in ${UP[$BIG]} s from launch  =>  $(python3 -c "print(round($BIG / ${UP[$BIG]}))") connections/s"
else
    echo "connect rate: not all $BIG connections were up within $((DURATION / 2)) s"
fi
echo "errors: $(summary errors "$WORK/run.$BIG.json")"
echo "raw results: $CSV (ramp: $OUT_DIR/ramp.csv)"
