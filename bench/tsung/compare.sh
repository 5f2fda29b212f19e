#!/usr/bin/env bash
# wsgibench vs real Tsung on the same Tsung XML file, side by side.
#
# A closed session file: USERS users arrive over ARRIVAL seconds, each opens one
# keep-alive connection and sends LOOP GETs of / in a <for> loop; the test is cut at
# CUT seconds. The same file runs through Tsung 1.7 (`tsung -f FILE -l DIR start`,
# client on the controller VM, no ssh) and through `wsgibench tsung FILE`, against one
# private nginx answering `200 Pong!` (bench/lib-nginx.sh) pinned to SERVER_CPU, with
# each generator pinned to GEN_CPU (wsgibench with one worker thread).
#
# For both it prints: total requests, requests per finished user, req/s, mean latency,
# generator CPU-seconds (user+sys from /usr/bin/time; for Tsung that is the whole
# beam.smp tree it waited for), requests per CPU-second, and wsgibench/Tsung ratios.
# Req/s uses each tool's own clock: Tsung's from its log's first to last dump
# (whole seconds), wsgibench's from its summary.
#
# Usage: bench/tsung/compare.sh [-r REPEATS] [--users N] [--arrival S] [--loop N]
#                               [--cut S] [--server-cpu N] [--gen-cpu N] [--out DIR]
#                               [--io auto|uring|epoll]
# Env:   REPEATS USERS ARRIVAL LOOP CUT SERVER_CPU GEN_CPU OUT_DIR WSGIBENCH TSUNG NGINX
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib-nginx.sh"

REPEATS=${REPEATS:-1}
USERS=${USERS:-50}
ARRIVAL=${ARRIVAL:-10}
LOOP=${LOOP:-10000}
CUT=${CUT:-30}
SERVER_CPU=${SERVER_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
OUT_DIR=${OUT_DIR:-}
WSGIBENCH=${WSGIBENCH:-$ROOT/target/release/wsgibench}
# wsgibench --io: auto, uring or epoll.
IO=${IO:-auto}
TSUNG=${TSUNG:-$(command -v tsung || true)}

while [ $# -gt 0 ]; do
    case $1 in
        -r|--repeats) REPEATS=$2; shift 2 ;;
        --users) USERS=$2; shift 2 ;;
        --arrival) ARRIVAL=$2; shift 2 ;;
        --loop) LOOP=$2; shift 2 ;;
        --cut) CUT=$2; shift 2 ;;
        --server-cpu) SERVER_CPU=$2; shift 2 ;;
        --gen-cpu) GEN_CPU=$2; shift 2 ;;
        --out) OUT_DIR=$2; shift 2 ;;
        --io) IO=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

for t in taskset curl python3 /usr/bin/time timeout; do
    command -v "$t" >/dev/null || { echo "compare.sh: needs $t" >&2; exit 2; }
done
[ -n "$TSUNG" ] || { echo "compare.sh: needs Tsung (apt-get install tsung)" >&2; exit 2; }
[ -x "$WSGIBENCH" ] || { echo "compare.sh: no $WSGIBENCH (cargo build --release -p wsgibench, or set WSGIBENCH)" >&2; exit 2; }
# Arrivals must divide into whole users per second for Tsung's arrivalrate.
if [ $((USERS % ARRIVAL)) -ne 0 ]; then
    echo "compare.sh: --users must be a multiple of --arrival (users/s is an integer)" >&2; exit 2
fi

if [ -z "$OUT_DIR" ]; then
    OUT_DIR=$(mktemp -d /tmp/wsgibench-vs-tsung.XXXXXX)
fi
mkdir -p "$OUT_DIR"
WORK=$(mktemp -d /tmp/wsgibench-vs-tsung-run.XXXXXX)
cleanup() { nginx_stop; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(free_port)
nginx_start "$WORK" "$PORT" "$SERVER_CPU" $((USERS * 4 + 64)) || exit 1

XML=$OUT_DIR/closed.xml
cat > "$XML" <<XML
<?xml version="1.0"?>
<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">
<tsung loglevel="warning" backend="json" dumptraffic="false">
  <clients>
    <client host="localhost" use_controller_vm="true" maxusers="60000"/>
  </clients>
  <servers>
    <server host="127.0.0.1" port="$PORT" type="tcp"/>
  </servers>
  <load duration="$CUT" unit="second">
    <arrivalphase phase="1" duration="$ARRIVAL" unit="second">
      <users maxnumber="$USERS" arrivalrate="$((USERS / ARRIVAL))" unit="second"/>
    </arrivalphase>
  </load>
  <sessions>
    <session name="pong" probability="100" type="ts_http">
      <for from="1" to="$LOOP" var="i">
        <request><http url="/" method="GET" version="1.1"/></request>
      </for>
    </session>
  </sessions>
</tsung>
XML

# Reads a Tsung-layout log (ours or Tsung's) and prints:
# requests finished_users started_users mean_latency_ms first_ts last_ts
log_figures() {
    python3 - "$1" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))["stats"]
def last(name, field):
    for e in reversed(stats):
        for s in e["samples"]:
            if s["name"] == name:
                return s[field]
    return 0
# Overall mean: the last entry's global figures cover every dump before it.
req = [s for s in stats[-1]["samples"] if s["name"] == "request"]
mean = 0.0
if req:
    r = req[0]
    n = r["global_count"] + r["value"]
    mean = (r["global_mean"] * r["global_count"] + r["mean"] * r["value"]) / n if n else 0.0
codes = sum(last(s["name"], "total") for s in {x["name"]: x for e in stats for x in e["samples"]}.values()
            if s["name"].startswith("http_"))
print(codes, last("finish_users_count", "total"), last("users_count", "total"), f"{mean:.4f}", stats[0]["timestamp"], stats[-1]["timestamp"])
PY
}

# cpu_of TIMEFILE: user+sys seconds from /usr/bin/time -f '%U %S'.
cpu_of() { awk 'END { printf "%.2f", $1 + $2 }' "$1"; }

RESULTS=$OUT_DIR/results.tsv
printf 'tool\tround\trequests\tusers\tper_user\tseconds\treq_s\tmean_ms\tcpu_s\treq_per_cpu_s\n' > "$RESULTS"

run_tsung() {
    local round=$1 dir=$OUT_DIR/tsung-$1
    mkdir -p "$dir/home"
    # Own HOME (Erlang cookie, ~/.tsung), own controller id, no web GUI on :8091.
    HOME=$dir/home timeout $((CUT + 60)) /usr/bin/time -f '%U %S' -o "$dir/time" \
        taskset -c "$GEN_CPU" "$TSUNG" -n -i "cmp$$" -f "$XML" -l "$dir/logs" start \
        > "$dir/stdout" 2>&1 || { echo "tsung failed, see $dir/stdout" >&2; return 1; }
    local log
    log=$(ls -d "$dir"/logs/*/ | head -n1)tsung.log
    read -r req users started mean t0 t1 < <(log_figures "$log")
    record tsung "$round" "$req" "$users" "$((t1 - t0))" "$mean" "$(cpu_of "$dir/time")" "$started"
}

run_wsgibench() {
    local round=$1 dir=$OUT_DIR/wsgibench-$1
    mkdir -p "$dir"
    timeout $((CUT + 30)) /usr/bin/time -f '%U %S' -o "$dir/time" \
        taskset -c "$GEN_CPU" "$WSGIBENCH" tsung "$XML" -q -t 1 --cpus "$GEN_CPU" --io "$IO" \
        --tsung-log "$dir/tsung.json" --json "$dir/summary.json" \
        > "$dir/stdout" 2>&1 || { echo "wsgibench failed, see $dir/stdout" >&2; return 1; }
    local secs
    secs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["duration_s"])' "$dir/summary.json")
    read -r req users started mean _ _ < <(log_figures "$dir/tsung.json")
    record wsgibench "$round" "$req" "$users" "$secs" "$mean" "$(cpu_of "$dir/time")" "$started"
}

record() {
    # tool round requests finished_users seconds mean_ms cpu_s started_users
    python3 - "$@" >> "$RESULTS" <<'PY'
import sys
tool, rnd, req, users, secs, mean, cpu, started = sys.argv[1:]
req, users, secs, cpu = int(req), int(users), float(secs), float(cpu)
# Per user only when every started user finished (Tsung may start one user fewer at
# a phase's end); a run cut mid-loop has no such figure.
per_user = f"{req / users:.1f}" if users and users == int(started) else "-"
print("\t".join([tool, rnd, str(req), str(users), per_user,
                 f"{secs:.2f}", f"{req / secs if secs else 0:.0f}", mean, f"{cpu:.2f}",
                 f"{req / cpu if cpu else 0:.0f}"]))
PY
    tail -n1 "$RESULTS" | awk -F'\t' '{ printf "  %-9s round %s: %s requests (%s per finished user), %s req/s, mean %s ms, %s CPU-s, %s req/CPU-s\n", $1, $2, $3, $5, $7, $8, $9, $10 }'
}

echo "wsgibench vs Tsung: $USERS users over ${ARRIVAL}s, $LOOP GETs each, cut at ${CUT}s;"
echo "nginx on CPU $SERVER_CPU, generators on CPU $GEN_CPU; outputs in $OUT_DIR"
for round in $(seq 1 "$REPEATS"); do
    run_tsung "$round" || exit 1
    run_wsgibench "$round" || exit 1
done

python3 - "$RESULTS" <<'PY'
import csv, sys, statistics as st
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def med(tool, key):
    vals = [float(r[key]) for r in rows if r["tool"] == tool and r[key] != "-"]
    return st.median(vals) if vals else None
print()
print("| median of %d round(s) | Tsung 1.7.0 | wsgibench | wsgibench / Tsung |" % (len(rows) // 2))
print("|---|---:|---:|---:|")
for key, label, fmt in [("requests", "total requests", "{:.0f}"), ("per_user", "requests per finished user", "{:.1f}"),
                        ("req_s", "req/s", "{:.0f}"), ("mean_ms", "mean latency (ms)", "{:.3f}"),
                        ("cpu_s", "generator CPU-seconds", "{:.2f}"), ("req_per_cpu_s", "requests per CPU-second", "{:.0f}")]:
    t, w = med("tsung", key), med("wsgibench", key)
    ratio = f"{w / t:.2f}" if t and w is not None else "-"
    show = lambda v: "-" if v is None else fmt.format(v)
    print(f"| {label} | {show(t)} | {show(w)} | {ratio} |")
PY
