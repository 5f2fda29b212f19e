#!/usr/bin/env bash
# Generator efficiency: wsgibench on each I/O path vs wrk (vs oha, if installed) and
# a floor, side by side.
#
# One private nginx answers `200 Pong!` on 127.0.0.1, pinned to SERVER_CPU; each
# generator runs pinned to GEN_CPU with 1 thread and CONNS keep-alive connections
# (each count of the list in turn). The tools alternate (round 1: ws-uring, ws-epoll,
# wrk, floor, oha; round 2: ...), so slow drift of a noisy machine hits all alike.
# For every run the generator's CPU time (user+sys, from /usr/bin/time) and completed
# requests are recorded; the figure that matters is requests per generator
# CPU-second, and its ratio to wrk. Both cores' busy time comes from /proc/stat:
# on loopback the receiver's kernel work is charged to whichever side sends, so
# `both µs/req` (busy time of both cores per request) shows work moved, not saved.
#
# ws-uring / ws-epoll: `wsgibench load --io uring|epoll`. floor: bench/floor.c, a
# blocking send/recv loop with no event loop, the least a client can do per request.
# --strace: afterwards, syscalls per request of each tool at each count (strace -c -f).
#
# Usage: bench/compare.sh [-r REPEATS] [-d SECONDS] [-c CONNS,...] [--server-cpu N]
#                         [--gen-cpu N] [--out DIR] [--no-build] [--no-oha] [--strace]
# Env:   REPEATS DURATION CONNS SERVER_CPU GEN_CPU OUT_DIR WSGIBENCH WRK OHA NGINX
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/lib-nginx.sh"

REPEATS=${REPEATS:-5}
DURATION=${DURATION:-5}
CONNS=${CONNS:-1,4,50}
SERVER_CPU=${SERVER_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
OUT_DIR=${OUT_DIR:-}
BUILD=1
USE_OHA=1
STRACE=0
WSGIBENCH=${WSGIBENCH:-$ROOT/target/release/wsgibench}
WRK=${WRK:-$(command -v wrk || true)}
OHA=${OHA:-$(command -v oha || true)}

while [ $# -gt 0 ]; do
    case $1 in
        -r|--repeats) REPEATS=$2; shift 2 ;;
        -d|--duration) DURATION=${2%s}; shift 2 ;;
        -c|--connections) CONNS=$2; shift 2 ;;
        --server-cpu) SERVER_CPU=$2; shift 2 ;;
        --gen-cpu) GEN_CPU=$2; shift 2 ;;
        --out) OUT_DIR=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --no-oha) USE_OHA=0; shift ;;
        --strace) STRACE=1; shift ;;
        -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

for t in taskset curl python3 /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "compare.sh: needs $t" >&2; exit 2; }
done
[ -n "$WRK" ] || { echo "compare.sh: needs wrk (apt-get install wrk)" >&2; exit 2; }

if [ "$BUILD" = 1 ]; then
    echo "building wsgibench (release)..." >&2
    (cd "$ROOT" && timeout 1200 cargo build --release -p wsgibench -q) || {
        echo "compare.sh: cargo build failed" >&2; exit 1; }
fi
[ -x "$WSGIBENCH" ] || { echo "compare.sh: no $WSGIBENCH" >&2; exit 2; }

TOOLS="ws-uring ws-epoll wrk floor"
OHA_FMT=
if [ "$USE_OHA" = 1 ] && [ -n "$OHA" ] && [ -x "$OHA" ]; then
    TOOLS="$TOOLS oha"
    if "$OHA" --help 2>&1 | grep -q -- '--output-format'; then OHA_FMT="--output-format json"
    else OHA_FMT="--json"; fi
    # oha's runtime defaults to one thread per physical core, not per allowed CPU
    if "$OHA" --help 2>&1 | grep -q -- '--worker-threads'; then OHA_FMT="$OHA_FMT --worker-threads 1"; fi
else
    echo "oha not installed: comparing wsgibench and wrk only" >&2
fi

WORK=$(mktemp -d /tmp/wsgibench-compare.XXXXXX)
[ -n "$OUT_DIR" ] || OUT_DIR=$WORK
mkdir -p "$OUT_DIR"
CSV=$OUT_DIR/compare.csv
cleanup() { nginx_stop; }
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -o "$WORK/floor" "$HERE/floor.c" || { echo "compare.sh: cannot build bench/floor.c" >&2; exit 1; }

PORT=$(free_port)
URL=http://127.0.0.1:$PORT/
nginx_start "$WORK" "$PORT" "$SERVER_CPU" 4096 || exit 1
echo "nginx pid $NGINX_PID (worker $NGINX_WORKER_PID) on $URL, CPU $SERVER_CPU; generators on CPU $GEN_CPU" >&2

CLK=$(getconf CLK_TCK)
LIMIT=$((DURATION + 30))
echo "tool,conns,round,requests,errors,wall_s,user_s,sys_s,cpu_s,rps,req_per_cpu_s,gen_cpu_pct,server_cpu_pct,exit,gen_core_busy_pct,server_core_busy_pct,both_cores_us_per_req" > "$CSV"

# cpu_line N: "busy total" jiffies of CPU N from /proc/stat (busy = all but idle+iowait)
cpu_line() {
    awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}

# command_for TOOL CONNS BASE: the tool's command line, into the array `cmd`.
command_for() {
    local tool=$1 conns=$2 base=$3
    case $tool in
        ws-uring|ws-epoll)
                   cmd=("$WSGIBENCH" load "$URL" -c "$conns" -t 1 -d "${DURATION}s" -q
                        --interval "${DURATION}s" --io "${tool#ws-}" --json "$base.json") ;;
        wrk)       cmd=("$WRK" -t1 -c"$conns" -d"${DURATION}s" "$URL") ;;
        floor)     cmd=("$WORK/floor" 127.0.0.1 "$PORT" "$conns" "$DURATION") ;;
        oha)       cmd=("$OHA" -z "${DURATION}s" -c "$conns" --no-tui $OHA_FMT "$URL") ;;
    esac
}

# run_one TOOL ROUND CONNS: one bounded run; appends a CSV row.
run_one() {
    local tool=$1 round=$2 conns=$3 base="$WORK/$1.$3.$2"
    local s0 s1 t0 t1 rc
    local -a cmd
    command_for "$tool" "$conns" "$base"
    s0=$(proc_cpu_ticks "$NGINX_WORKER_PID")
    local g0 v0 g1 v1
    g0=$(cpu_line "$GEN_CPU"); v0=$(cpu_line "$SERVER_CPU")
    t0=$(date +%s.%N)
    timeout -k 5 "$LIMIT" taskset -c "$GEN_CPU" /usr/bin/time -f '%U %S' -o "$base.time" \
        "${cmd[@]}" > "$base.out" 2> "$base.err"
    rc=$?
    t1=$(date +%s.%N)
    s1=$(proc_cpu_ticks "$NGINX_WORKER_PID")
    g1=$(cpu_line "$GEN_CPU"); v1=$(cpu_line "$SERVER_CPU")
    python3 - "$tool" "$round" "$base" "$rc" "$t0" "$t1" "$s0" "$s1" "$CLK" "$g0 $g1 $v0 $v1" "$conns" >> "$CSV" <<'EOF'
import json, re, sys
tool, rnd, base, rc, t0, t1, s0, s1, clk, cores, conns = sys.argv[1:]
gb0, gt0, gb1, gt1, vb0, vt0, vb1, vt1 = (int(x) for x in cores.split())
# how busy each core was, whoever used it (other processes share the machine)
gcore = (gb1 - gb0) / max(gt1 - gt0, 1) * 100
vcore = (vb1 - vb0) / max(vt1 - vt0, 1) * 100
wall = float(t1) - float(t0)
try:
    user, sys_ = (float(x) for x in open(base + ".time").read().split()[-2:])
except Exception:
    user = sys_ = float("nan")
out = open(base + ".out", errors="replace").read()
req = err = 0
dur = wall
if tool.startswith("ws-"):
    j = json.load(open(base + ".json"))
    req = j["requests"]; dur = j["duration_s"]
    err = sum(j.get("errors", {}).values())
elif tool == "wrk":
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    req = int(m.group(1))
    dur = float(m.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[m.group(3)]
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m: err += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m: err += int(m.group(1))
elif tool == "floor":
    req = int(re.search(r"requests (\d+)", out).group(1))
elif tool == "oha":
    j = json.loads(out[out.index("{"):])
    codes = j.get("statusCodeDistribution", {})
    req = sum(codes.values())
    # requests cut off at the deadline are not failures (wrk drops them silently)
    err = sum(v for k, v in j.get("errorDistribution", {}).items() if "deadline" not in k)
    dur = j["summary"].get("total", wall)
cpu = user + sys_
rps = req / dur if dur else 0
per_cpu = req / cpu if cpu else 0
srv = (int(s1) - int(s0)) / int(clk) / wall * 100
both_us = ((gb1 - gb0) + (vb1 - vb0)) / int(clk) / req * 1e6 if req else 0
print(f"{tool},{conns},{rnd},{req},{err},{dur:.3f},{user:.2f},{sys_:.2f},{cpu:.2f},{rps:.0f},{per_cpu:.0f},"
      f"{cpu / dur * 100:.1f},{srv:.1f},{rc},{gcore:.1f},{vcore:.1f},{both_us:.2f}")
EOF
    tail -n1 "$CSV" | awk -F, '{ printf "  %-9s -c %-3s round %s: %9d req  %8.0f req/s  cpu %5.2fs (%5.1f%%)  %8.0f req/cpu-s  server %5.1f%%  cores busy %5.1f%%/%5.1f%%  both %6.2f us/req  err %s rc %s\n", $1, $2, $3, $4, $10, $9, $12, $11, $13, $15, $16, $17, $5, $14 }' >&2
}

for conns in ${CONNS//,/ }; do
    for round in $(seq 1 "$REPEATS"); do
        for tool in $TOOLS; do
            run_one "$tool" "$round" "$conns" || echo "  $tool -c $conns round $round: could not parse the result (see $WORK/$tool.$conns.$round.*)" >&2
            sleep 1
        done
    done
done

echo
echo "nginx 'return 200 Pong!' on CPU $SERVER_CPU; generator on CPU $GEN_CPU; 1 thread, $CONNS connections, ${DURATION}s x $REPEATS (alternating)"
python3 - "$CSV" <<'EOF'
import csv, statistics, sys
all_rows = list(csv.DictReader(open(sys.argv[1])))
for conns in dict.fromkeys(r["conns"] for r in all_rows):
    rows = [r for r in all_rows if r["conns"] == conns]
    tools = []
    for r in rows:
        if r["tool"] not in tools: tools.append(r["tool"])
    def col(t, k): return [float(r[k]) for r in rows if r["tool"] == t]
    med = {t: statistics.median(col(t, "req_per_cpu_s")) for t in tools}
    ref = med.get("wrk")
    print(f"\n{conns} connection(s):")
    hdr = f"{'tool':<10} {'runs':>4} {'median req/s':>13} {'req/s spread':>17} {'median req/CPU-s':>17} {'req/CPU-s spread':>17} {'x wrk':>6} {'gen CPU%':>8} {'srv CPU%':>8} {'cores busy%':>11} {'both us/req':>11} {'errors':>6}"
    print(hdr); print("-" * len(hdr))
    for t in tools:
        rps, pc = col(t, "rps"), col(t, "req_per_cpu_s")
        ratio = f"{med[t] / ref:.2f}" if ref else "-"
        print(f"{t:<10} {len(rps):>4} {statistics.median(rps):>13,.0f} {min(rps):>8,.0f}-{max(rps):<8,.0f} "
              f"{med[t]:>17,.0f} {min(pc):>8,.0f}-{max(pc):<8,.0f} {ratio:>6} "
              f"{statistics.median(col(t, 'gen_cpu_pct')):>8.1f} {statistics.median(col(t, 'server_cpu_pct')):>8.1f} "
              f"{statistics.median(col(t, 'gen_core_busy_pct')):>5.0f}/{statistics.median(col(t, 'server_core_busy_pct')):<5.0f} "
              f"{statistics.median(col(t, 'both_cores_us_per_req')):>11.2f} "
              f"{int(sum(col(t, 'errors'))):>6}")
EOF
if [ "$STRACE" = 1 ]; then
    command -v strace >/dev/null || { echo "compare.sh: --strace needs strace (apt-get install strace)" >&2; exit 2; }
    echo
    echo "syscalls per request (strace -c -f, one ${DURATION}s run each; strace slows every tool, so only the counts mean anything):"
    printf '%-10s %6s %10s %10s %9s  %s\n' tool conns requests syscalls per_req "top calls per request"
    for conns in ${CONNS//,/ }; do
        for tool in $TOOLS; do
            base="$WORK/strace.$tool.$conns"
            command_for "$tool" "$conns" "$base"
            timeout -k 5 "$LIMIT" taskset -c "$GEN_CPU" strace -c -f -o "$base.strace" "${cmd[@]}" > "$base.out" 2> "$base.err"
            python3 - "$tool" "$conns" "$base" <<'EOF'
import json, re, sys
tool, conns, base = sys.argv[1:]
out = open(base + ".out", errors="replace").read()
if tool.startswith("ws-"):
    req = json.load(open(base + ".json"))["requests"]
elif tool == "wrk":
    req = int(re.search(r"(\d+) requests in", out).group(1))
elif tool == "floor":
    req = int(re.search(r"requests (\d+)", out).group(1))
else:
    sys.exit(0)
calls = {}
for line in open(base + ".strace"):
    f = line.split()
    if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
        calls[f[-1]] = int(f[3])
# Every thread is counted; calls made once per run (futex, mmap) round to 0.
total = sum(calls.values())
top = sorted(calls.items(), key=lambda kv: -kv[1])[:4]
print(f"{tool:<10} {conns:>6} {req:>10} {total:>10} {total / max(req, 1):>9.3f}  " +
      ", ".join(f"{k} {v / max(req, 1):.3f}" for k, v in top))
EOF
        done
    done
fi

echo
echo "raw results: $CSV"
