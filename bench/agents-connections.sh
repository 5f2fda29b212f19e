#!/usr/bin/env bash
# 50 000 connections from one machine, through agents: each process is capped by the
# open-files hard limit (20 000 here), so one `wsgibench load` cannot hold 50 000;
# three agents on 127.0.0.2-4 can, each holding a third, with the controller's exact
# split. The server is a private nginx with four workers (reuseport), each under the
# limit too.
#
# The load is the open model at a low rate, so the connections are idle keep-alive
# ones most of the time (as in many-connections.sh). While it runs, `ss` counts the
# connections established to nginx's port every 0.25 s: the time until all N are up,
# and the agents' peak VmRSS while they are. The run's --json gives the connections
# the engine opened, errors by kind and each agent's share.
#
# Usage: bench/agents-connections.sh [-c N] [-d SECONDS] [--agents K] [--no-build]
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/lib-nginx.sh"

N=50000
DURATION=40
AGENTS=3
BUILD=1
WSGIBENCH=${WSGIBENCH:-$ROOT/target/release/wsgibench}
while [ $# -gt 0 ]; do
    case $1 in
        -c) N=$2; shift 2 ;;
        -d) DURATION=${2%s}; shift 2 ;;
        --agents) AGENTS=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "agents-connections.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ "$BUILD" = 1 ] && (cd "$ROOT" && cargo build --release -q -p wsgibench)

WORK=$(mktemp -d)
AGENT_PIDS=()
cleanup() {
    stop_generator_and_nginx
    for pid in "${AGENT_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${AGENT_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
}
trap cleanup EXIT

PORT=$(free_port)
nginx_start "$WORK" "$PORT" 1 $(( N / 4 + 2000 )) 4 || exit 1
export WSGIBENCH_TOKEN=bench-token-$(date +%s%N)
ADDRESSES=()
for i in $(seq 1 "$AGENTS"); do
    taskset -c 0 "$WSGIBENCH" agent --listen "127.0.0.$((i + 1)):0" --once -t 1 \
        > "$WORK/agent$i.out" 2>&1 &
    AGENT_PIDS+=($!)
done
for i in $(seq 1 "$AGENTS"); do
    for _ in $(seq 1 100); do
        grep -q "agent on" "$WORK/agent$i.out" && break
        sleep 0.05
    done
    ADDRESSES+=("$(awk '/agent on/ {print $4; exit}' "$WORK/agent$i.out")")
done
AGENT_LIST=$(IFS=,; echo "${ADDRESSES[*]}")
RATE=$(( 2 * N / DURATION ))
echo "nginx :$PORT (4 workers), $AGENTS agents ($AGENT_LIST), $N connections, $RATE req/s for ${DURATION}s"

START=$(date +%s.%N)
taskset -c 0 "$WSGIBENCH" load "http://127.0.0.1:$PORT/" -c "$N" --rate "$RATE" -d "${DURATION}s" \
    --agents "$AGENT_LIST" --json "$WORK/out.json" -q > "$WORK/load.out" 2>&1 &
GEN_PID=$!
UP_AT=
PEAK=0
RSS_PEAK=0
while kill -0 "$GEN_PID" 2>/dev/null; do
    n=$(ss -Htn state established "( dport = :$PORT )" 2>/dev/null | wc -l)
    [ "$n" -gt "$PEAK" ] && PEAK=$n
    if [ -z "$UP_AT" ] && [ "$n" -ge "$N" ]; then
        UP_AT=$(date +%s.%N)
        for _ in 1 2 3 4 5 6; do
            rss=0
            for pid in "${AGENT_PIDS[@]}"; do
                r=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
                rss=$(( rss + ${r:-0} ))
            done
            [ "$rss" -gt "$RSS_PEAK" ] && RSS_PEAK=$rss
            sleep 0.5
        done
    fi
    sleep 0.25
done
wait "$GEN_PID"; CODE=$?
GEN_PID=
echo "exit $CODE; peak established $PEAK"
if [ -n "$UP_AT" ]; then
    awk -v s="$START" -v u="$UP_AT" -v n="$N" -v r="$RSS_PEAK" 'BEGIN {
        printf "all %d up after %.1f s (%.0f connections/s from launch); agents RSS %.0f MiB, %.1f KiB per connection\n",
            n, u - s, n / (u - s), r / 1024, r / n }'
fi
python3 - "$WORK/out.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"opened {s['connections_opened']}, requests {s['requests']}, errors {s['errors_total']} {s['errors']}")
for a in s.get("agents", []):
    print(f"  {a['address']:<22} {a['status']:<5} {a['requests']:>8} requests  clock {a['clock_offset_us']:+} us")
PY
tail -3 "$WORK/load.out"
