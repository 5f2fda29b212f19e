#!/usr/bin/env bash
# What https costs the generator: wsgibench against one nginx over http and https.
#
# One private nginx answers `200 Pong!` on 127.0.0.1 on two ports, plain and TLS (a
# CA and a server certificate made here with openssl; wsgibench trusts the CA with
# --cacert), pinned to SERVER_CPU. wsgibench runs pinned to GEN_CPU with 1 thread and
# 50 keep-alive connections; http and https alternate (round 1: http, https; round
# 2: ...), so slow drift of a noisy machine hits both alike. For every run the
# generator's CPU time (user+sys, from /usr/bin/time) and completed requests are
# recorded; the figures are req/s and requests per generator CPU-second, and the
# https/http ratio of each.
#
# Usage: bench/tls.sh [-r REPEATS] [-d SECONDS] [-c CONNS] [--server-cpu N]
#                     [--gen-cpu N] [--out DIR] [--no-build]
# Env:   REPEATS DURATION CONNS SERVER_CPU GEN_CPU OUT_DIR WSGIBENCH NGINX
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/lib-nginx.sh"

REPEATS=${REPEATS:-5}
DURATION=${DURATION:-5}
CONNS=${CONNS:-50}
SERVER_CPU=${SERVER_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
OUT_DIR=${OUT_DIR:-}
BUILD=1
WSGIBENCH=${WSGIBENCH:-$ROOT/target/release/wsgibench}

while [ $# -gt 0 ]; do
    case $1 in
        -r|--repeats) REPEATS=$2; shift 2 ;;
        -d|--duration) DURATION=${2%s}; shift 2 ;;
        -c|--connections) CONNS=$2; shift 2 ;;
        --server-cpu) SERVER_CPU=$2; shift 2 ;;
        --gen-cpu) GEN_CPU=$2; shift 2 ;;
        --out) OUT_DIR=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "tls.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

for t in taskset curl python3 openssl /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "tls.sh: needs $t" >&2; exit 2; }
done
"${NGINX:-/usr/sbin/nginx}" -V 2>&1 | grep -q -- --with-http_ssl_module ||
    { echo "tls.sh: needs an nginx built with ssl (apt-get install nginx-light)" >&2; exit 2; }

if [ "$BUILD" = 1 ]; then
    echo "building wsgibench (release)..." >&2
    (cd "$ROOT" && timeout 1200 cargo build --release -p wsgibench -q) || {
        echo "tls.sh: cargo build failed" >&2; exit 1; }
fi
[ -x "$WSGIBENCH" ] || { echo "tls.sh: no $WSGIBENCH" >&2; exit 2; }

WORK=$(mktemp -d /tmp/wsgibench-tls.XXXXXX)
[ -n "$OUT_DIR" ] || OUT_DIR=$WORK
mkdir -p "$OUT_DIR"
CSV=$OUT_DIR/tls.csv
trap nginx_stop EXIT
trap 'exit 130' INT TERM

tls_certificates "$WORK" || { echo "tls.sh: openssl could not make the certificates" >&2; exit 1; }
PORT=$(free_port)
NGINX_TLS_PORT=$(free_port)
while [ "$NGINX_TLS_PORT" = "$PORT" ]; do NGINX_TLS_PORT=$(free_port); done
nginx_start "$WORK" "$PORT" "$SERVER_CPU" 4096 || exit 1
HTTP=http://127.0.0.1:$PORT/
HTTPS=https://localhost:$NGINX_TLS_PORT/
curl -s -o /dev/null --cacert "$WORK/ca.pem" --max-time 5 "$HTTPS" ||
    { echo "tls.sh: nginx does not answer on $HTTPS" >&2; exit 1; }
echo "nginx pid $NGINX_PID (worker $NGINX_WORKER_PID) on $HTTP and $HTTPS, CPU $SERVER_CPU; wsgibench on CPU $GEN_CPU" >&2

CLK=$(getconf CLK_TCK)
LIMIT=$((DURATION + 30))
echo "mode,round,requests,errors,wall_s,cpu_s,rps,req_per_cpu_s,gen_cpu_pct,server_cpu_pct,exit" > "$CSV"

# run_one MODE ROUND: one bounded run; appends a CSV row.
run_one() {
    local mode=$1 round=$2 base="$WORK/$1.$2" url=$HTTP rc s0 s1 t0 t1
    local -a trust=()
    if [ "$mode" = https ]; then url=$HTTPS; trust=(--cacert "$WORK/ca.pem"); fi
    s0=$(proc_cpu_ticks "$NGINX_WORKER_PID")
    t0=$(date +%s.%N)
    timeout -k 5 "$LIMIT" taskset -c "$GEN_CPU" /usr/bin/time -f '%U %S' -o "$base.time" \
        "$WSGIBENCH" load "$url" "${trust[@]}" -c "$CONNS" -t 1 -d "${DURATION}s" -q \
        --interval "${DURATION}s" --json "$base.json" > "$base.out" 2> "$base.err"
    rc=$?
    t1=$(date +%s.%N)
    s1=$(proc_cpu_ticks "$NGINX_WORKER_PID")
    python3 - "$mode" "$round" "$base" "$rc" "$t0" "$t1" "$s0" "$s1" "$CLK" >> "$CSV" <<'PY'
import json, sys
mode, rnd, base, rc, t0, t1, s0, s1, clk = sys.argv[1:]
wall = float(t1) - float(t0)
user, sys_ = (float(x) for x in open(base + ".time").read().split()[-2:])
j = json.load(open(base + ".json"))
req, dur, err = j["requests"], j["duration_s"], j["errors_total"]
cpu = user + sys_
srv = (int(s1) - int(s0)) / int(clk) / wall * 100
print(f"{mode},{rnd},{req},{err},{dur:.3f},{cpu:.2f},{req / dur:.0f},{req / cpu:.0f},"
      f"{cpu / dur * 100:.1f},{srv:.1f},{rc}")
PY
    tail -n1 "$CSV" | awk -F, '{ printf "  %-5s round %s: %9d req  %8.0f req/s  cpu %5.2fs (%5.1f%%)  %8.0f req/cpu-s  server %5.1f%%  err %s rc %s\n", $1, $2, $3, $7, $6, $9, $8, $10, $4, $11 }' >&2
}

for round in $(seq 1 "$REPEATS"); do
    for mode in http https; do
        run_one "$mode" "$round" || echo "  $mode round $round: could not parse the result (see $WORK/$mode.$round.*)" >&2
        sleep 1
    done
done

echo
echo "nginx 'return 200 Pong!' on CPU $SERVER_CPU; wsgibench on CPU $GEN_CPU; 1 thread, $CONNS connections, ${DURATION}s x $REPEATS (alternating)"
python3 - "$CSV" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def col(m, k): return [float(r[k]) for r in rows if r["mode"] == m]
med = {m: {k: statistics.median(col(m, k)) for k in ("rps", "req_per_cpu_s", "gen_cpu_pct", "server_cpu_pct")}
       for m in ("http", "https") if col(m, "rps")}
hdr = f"{'mode':<6} {'runs':>4} {'median req/s':>13} {'req/s spread':>17} {'median req/CPU-s':>17} {'gen CPU%':>8} {'srv CPU%':>8} {'errors':>6}"
print(hdr); print("-" * len(hdr))
for m in med:
    rps = col(m, "rps")
    print(f"{m:<6} {len(rps):>4} {med[m]['rps']:>13,.0f} {min(rps):>8,.0f}-{max(rps):<8,.0f} "
          f"{med[m]['req_per_cpu_s']:>17,.0f} {med[m]['gen_cpu_pct']:>8.1f} {med[m]['server_cpu_pct']:>8.1f} "
          f"{int(sum(col(m, 'errors'))):>6}")
if len(med) == 2:
    print(f"https / http: req/s {med['https']['rps'] / med['http']['rps']:.2f}x, "
          f"req per generator CPU-second {med['https']['req_per_cpu_s'] / med['http']['req_per_cpu_s']:.2f}x")
PY
echo
echo "raw results: $CSV"
