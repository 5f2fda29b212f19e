#!/usr/bin/env bash
# Memory per idle connection: RSS of `wsgibench load` holding 10 vs 10 000 open,
# mostly idle keep-alive connections to a private nginx on 127.0.0.1.
#
# The open model (--rate) connects ALL connections before the first planned
# instant. In this engine each connection then takes the next untaken planned
# instant and sleeps until it, and a connection that finds none left closes. So
# the rate must plan at least 2 requests per connection over the run, or most
# connections close at once (with --rate 1, only ~DURATION of them would stay).
# The default rate is 2 * BIG / DURATION (1000 req/s for 10 000 connections and
# 20 s): every connection holds one planned request for the first half of the run,
# i.e. one request per 10 s per connection; it is idle > 99.9 % of the time. The
# 10-connection baseline runs at the same rate, so per-request costs cancel.
# Once `ss` shows the connections established, the generator's VmRSS is read
# from /proc/PID/status (six samples over 3 s, the largest kept), and
#   (RSS(BIG) - RSS(10)) / (BIG - 10)
# is printed in KiB per idle connection. The bar is <= 16 KiB.
# For reference, wrk's RSS at -c 10 and -c BIG is reported too; wrk keeps all
# its connections busy (closed model), so its figure is per *busy* connection.
#
# Usage: bench/idle-memory.sh [-c BIG] [-d SECONDS] [--rate R] [--io auto|uring|epoll] [--server-cpu N] [--gen-cpu N]
#                             [--out DIR] [--no-build] [--no-wrk]
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/lib-nginx.sh"

SMALL=10
BIG=${BIG:-10000}
DURATION=${DURATION:-20}
SERVER_CPU=${SERVER_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
OUT_DIR=${OUT_DIR:-}
BUILD=1
USE_WRK=1
WSGIBENCH=${WSGIBENCH:-$ROOT/target/release/wsgibench}
# wsgibench --io: auto, uring or epoll.
IO=${IO:-auto}
WRK=${WRK:-$(command -v wrk || true)}

while [ $# -gt 0 ]; do
    case $1 in
        -c|--connections) BIG=$2; shift 2 ;;
        -d|--duration) DURATION=${2%s}; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --server-cpu) SERVER_CPU=$2; shift 2 ;;
        --gen-cpu) GEN_CPU=$2; shift 2 ;;
        --out) OUT_DIR=$2; shift 2 ;;
        --io) IO=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --no-wrk) USE_WRK=0; shift ;;
        -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "idle-memory.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

for t in taskset curl python3 ss; do
    command -v "$t" >/dev/null || { echo "idle-memory.sh: needs $t" >&2; exit 2; }
done
if [ "$BUILD" = 1 ]; then
    echo "building wsgibench (release)..." >&2
    (cd "$ROOT" && timeout 1200 cargo build --release -p wsgibench -q) || {
        echo "idle-memory.sh: cargo build failed" >&2; exit 1; }
fi
[ -x "$WSGIBENCH" ] || { echo "idle-memory.sh: no $WSGIBENCH" >&2; exit 2; }

# File descriptors: each process (generator, nginx) needs about BIG + a few.
HARD=$(ulimit -Hn)
if [ "$HARD" != unlimited ] && [ "$HARD" -lt $((BIG + 1000)) ]; then
    echo "idle-memory.sh: hard fd limit $HARD is below $((BIG + 1000)); using $((HARD - 1000)) connections" >&2
    BIG=$((HARD - 1000))
fi
ulimit -n "$HARD" 2>/dev/null || ulimit -n $((BIG + 1000))
echo "fd limit: soft $(ulimit -n), hard $HARD (each process needs ~$BIG; generator and nginx are separate processes)" >&2

RATE=${RATE:-$((2 * BIG / DURATION))}
echo "open model: $RATE req/s in total for ${DURATION}s (planned requests: $((RATE * DURATION)) for $BIG connections)" >&2

WORK=$(mktemp -d /tmp/wsgibench-idle.XXXXXX)
[ -n "$OUT_DIR" ] || OUT_DIR=$WORK
mkdir -p "$OUT_DIR"
CSV=$OUT_DIR/idle-memory.csv
trap stop_generator_and_nginx EXIT
trap 'exit 130' INT TERM

PORT=$(free_port)
URL=http://127.0.0.1:$PORT/
nginx_start "$WORK" "$PORT" "$SERVER_CPU" $((BIG + 2000)) || exit 1
echo "nginx pid $NGINX_PID on $URL (CPU $SERVER_CPU); generator on CPU $GEN_CPU" >&2

established() {
    ss -Htn state established "( dport = :$PORT )" 2>/dev/null | wc -l
}

# measure TOOL N: runs one generator with N connections; sets M_RSS M_HWM M_EST M_FDS (KiB, KiB, count, count).
measure() {
    local tool=$1 n=$2 base="$WORK/$1.$2" i est=0 rss=0 hwm=0 fds=0 r
    local -a cmd
    case $tool in
        wsgibench) cmd=("$WSGIBENCH" load "$URL" -c "$n" -t 1 --io "$IO" --rate "$RATE" -d "${DURATION}s" -q
                        --timeout 30s --json "$base.json") ;;
        wrk)       cmd=("$WRK" -t1 -c"$n" -d"${DURATION}s" --timeout 30s "$URL") ;;
    esac
    taskset -c "$GEN_CPU" "${cmd[@]}" > "$base.out" 2> "$base.err" &
    GEN_PID=$!
    # wait (at most DURATION/2 s) until ~all connections are up
    for i in $(seq 1 $((DURATION * 5))); do
        sleep 0.2
        kill -0 "$GEN_PID" 2>/dev/null || break
        est=$(established)
        [ "$est" -ge $((n * 99 / 100)) ] && break
        [ "$i" -ge $((DURATION * 5 / 2)) ] && break
    done
    # then a few samples over ~3 s; keep the largest RSS
    for i in 1 2 3 4 5 6; do
        sleep 0.5
        kill -0 "$GEN_PID" 2>/dev/null || break
        r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$GEN_PID/status" 2>/dev/null || echo 0)
        [ -n "$r" ] && [ "$r" -gt "$rss" ] && rss=$r
        hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$GEN_PID/status" 2>/dev/null || echo "$hwm")
        est=$(established)
        fds=$(ls "/proc/$GEN_PID/fd" 2>/dev/null | wc -l)
    done
    # let the run finish on its own (bounded), so its summary is complete
    local waited=0
    while kill -0 "$GEN_PID" 2>/dev/null && [ $waited -lt $((DURATION * 10 + 300)) ]; do
        sleep 0.1; waited=$((waited + 1))
    done
    if kill -0 "$GEN_PID" 2>/dev/null; then kill -KILL "$GEN_PID"; fi
    wait "$GEN_PID" 2>/dev/null
    GEN_PID=
    M_RSS=$rss M_HWM=$hwm M_EST=$est M_FDS=$fds
}

echo "tool,connections,rss_kib,hwm_kib,established,fds" > "$CSV"
TOOLS=wsgibench
[ "$USE_WRK" = 1 ] && [ -n "$WRK" ] && TOOLS="wsgibench wrk"
declare -A RSS
for tool in $TOOLS; do
    for n in "$SMALL" "$BIG"; do
        measure "$tool" "$n"
        rss=$M_RSS hwm=$M_HWM est=$M_EST fds=$M_FDS
        RSS[$tool.$n]=$rss
        echo "$tool,$n,$rss,$hwm,$est,$fds" >> "$CSV"
        printf '  %-9s -c %-6s RSS %7s KiB (peak %7s KiB)  established %6s  fds %6s\n' \
            "$tool" "$n" "$rss" "$hwm" "$est" "$fds" >&2
        sleep 2
    done
done

echo
for tool in $TOOLS; do
    s=${RSS[$tool.$SMALL]} b=${RSS[$tool.$BIG]}
    per=$(python3 -c "print(f'{($b - $s) / ($BIG - $SMALL):.2f}')")
    case $tool in
        wsgibench) label="per idle connection (open model, $RATE req/s in total)" ;;
        wrk)       label="per BUSY connection (closed model; reference only, not idle)" ;;
    esac
    printf '%-9s RSS %s KiB at -c %s, %s KiB at -c %s  =>  %s KiB %s\n' \
        "$tool" "$s" "$SMALL" "$b" "$BIG" "$per" "$label"
done
echo "bar: <= 16 KiB per idle connection (wsgibench)"
echo "raw results: $CSV"
