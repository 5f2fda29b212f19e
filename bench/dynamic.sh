#!/usr/bin/env bash
# What a dynamic Tsung session costs the generator: static vs extract + substitute.
#
# One private nginx on 127.0.0.1 (bench/lib-nginx.sh), pinned to SERVER_CPU, answers
# GET /item/abc123 carrying `Authorization: Bearer abc123` with 200 and the JSON
# body {"token":"abc123","next":"/item/2"}; any other /item/ path gets 201 with the
# same body, a wrong header 401. Every variant is one Tsung file of the same shape:
# USERS users arrive within 1 s, each opens one keep-alive connection and runs a
# <for> of GETs with no think time, cut by <load duration=DURATION>. Each variant
# puts the same bytes on the wire (GET /item/abc123 + the Bearer header); they
# differ in what the engine does per request:
#   static   the request is literal: prebuilt bytes, the answer skipped in place
#   subst    subst="true", %%_token%% in the URL and the header (token set once by
#            <setdynvars sourcetype="value"> before the loop): built per request
#   extract  literal request with <dyn_variable name="token" jsonpath="token"/>:
#            the answer is kept and read
#   dynamic  both: every request reads the token from the previous answer and
#            writes it into its URL and header (the first goes to /item/undefined,
#            hence one 201 per user, which proves the rest were substituted)
#   baseline the static file through BASELINE (another wsgibench binary), when given
# Runs go through `wsgibench tsung FILE -q -t 1 --cpus GEN_CPU --json F`, pinned to
# GEN_CPU, the variants interleaved inside each round (static, subst, extract,
# dynamic, [baseline]; then again) so drift hits them alike. The generator's CPU is
# user+sys from /usr/bin/time; requests come from the summary (`requests`). It prints
# per variant the median req/s, the median requests per generator CPU-second with
# its spread, and the ratio of that median to static's (the bar for dynamic: >= 0.8).
#
# Usage: bench/dynamic.sh [-r ROUNDS] [-d SECONDS] [--users N] [--finder jsonpath|re]
#                         [--variants "static subst extract dynamic"] [--baseline BIN]
#                         [--server-cpu N] [--gen-cpu N] [--out DIR] [--no-build]
# Env:   ROUNDS DURATION USERS FINDER VARIANTS BASELINE SERVER_CPU GEN_CPU OUT_DIR
#        WSGIBENCH NGINX
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/lib-nginx.sh"

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
USERS=${USERS:-50}
FINDER=${FINDER:-jsonpath}
VARIANTS=${VARIANTS:-static subst extract dynamic}
BASELINE=${BASELINE:-}
SERVER_CPU=${SERVER_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
OUT_DIR=${OUT_DIR:-}
BUILD=1
WSGIBENCH=${WSGIBENCH:-${CARGO_TARGET_DIR:-$ROOT/target}/release/wsgibench}

while [ $# -gt 0 ]; do
    case $1 in
        -r|--rounds) ROUNDS=$2; shift 2 ;;
        -d|--duration) DURATION=${2%s}; shift 2 ;;
        --users) USERS=$2; shift 2 ;;
        --finder) FINDER=$2; shift 2 ;;
        --variants) VARIANTS=$2; shift 2 ;;
        --baseline) BASELINE=$2; shift 2 ;;
        --server-cpu) SERVER_CPU=$2; shift 2 ;;
        --gen-cpu) GEN_CPU=$2; shift 2 ;;
        --out) OUT_DIR=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "dynamic.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

for t in taskset curl python3 /usr/bin/time timeout; do
    command -v "$t" >/dev/null || { echo "dynamic.sh: needs $t" >&2; exit 2; }
done
case $FINDER in
    # The token's text as the `re` reads it from the head and body.
    re) FIND='re="&quot;token&quot;:&quot;([a-z0-9]+)&quot;"' ;;
    jsonpath) FIND='jsonpath="token"' ;;
    *) echo "dynamic.sh: --finder is jsonpath or re, got '$FINDER'" >&2; exit 2 ;;
esac
if [ -n "$BASELINE" ]; then
    [ -x "$BASELINE" ] || { echo "dynamic.sh: no $BASELINE" >&2; exit 2; }
    VARIANTS="$VARIANTS baseline"
fi

if [ "$BUILD" = 1 ]; then
    echo "building wsgibench (release)..." >&2
    (cd "$ROOT" && timeout 1200 cargo build --release -p wsgibench -q) || {
        echo "dynamic.sh: cargo build failed" >&2; exit 1; }
fi
[ -x "$WSGIBENCH" ] || { echo "dynamic.sh: no $WSGIBENCH (or set WSGIBENCH)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/wsgibench-dynamic.XXXXXX)
[ -n "$OUT_DIR" ] || OUT_DIR=$WORK
mkdir -p "$OUT_DIR"
CSV=$OUT_DIR/dynamic.csv
trap stop_generator_and_nginx EXIT
trap 'exit 130' INT TERM

ANSWER='{"token":"abc123","next":"/item/2"}'
NGINX_LOCATIONS="        location = /item/abc123 {
            default_type application/json;
            if (\$http_authorization != \"Bearer abc123\") { return 401 '$ANSWER'; }
            return 200 '$ANSWER';
        }
        location /item/ {
            default_type application/json;
            return 201 '$ANSWER';
        }"
PORT=$(free_port)
nginx_start "$WORK" "$PORT" "$SERVER_CPU" $((USERS * 4 + 64)) || exit 1
echo "nginx pid $NGINX_PID on 127.0.0.1:$PORT, CPU $SERVER_CPU; generator on CPU $GEN_CPU" >&2

# tsung_file VARIANT: the Tsung file of that variant, on stdout.
tsung_file() {
    local setup= request
    local literal='<http url="/item/abc123" method="GET" version="1.1"><http_header name="Authorization" value="Bearer abc123"/></http>'
    local substituted='<http url="/item/%%_token%%" method="GET" version="1.1"><http_header name="Authorization" value="Bearer %%_token%%"/></http>'
    case $1 in
        static|baseline) request="<request>$literal</request>" ;;
        subst) setup='<setdynvars sourcetype="value" value="abc123"><var name="token"/></setdynvars>'
               request="<request subst=\"true\">$substituted</request>" ;;
        extract) request="<request><dyn_variable name=\"token\" $FIND/>$literal</request>" ;;
        dynamic) request="<request subst=\"true\"><dyn_variable name=\"token\" $FIND/>$substituted</request>" ;;
        *) echo "dynamic.sh: unknown variant '$1'" >&2; return 2 ;;
    esac
    cat <<XML
<?xml version="1.0"?>
<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">
<tsung loglevel="warning">
  <clients>
    <client host="localhost" use_controller_vm="true"/>
  </clients>
  <servers>
    <server host="127.0.0.1" port="$PORT" type="tcp"/>
  </servers>
  <load duration="$DURATION" unit="second">
    <arrivalphase phase="1" duration="1" unit="second">
      <users maxnumber="$USERS" arrivalrate="$USERS" unit="second"/>
    </arrivalphase>
  </load>
  <sessions>
    <session name="$1" probability="100" type="ts_http">
      $setup
      <for from="1" to="1000000000" var="i">
        $request
      </for>
    </session>
  </sessions>
</tsung>
XML
}

for v in $VARIANTS; do
    tsung_file "$v" > "$OUT_DIR/$v.xml" || exit 2
done

LIMIT=$((DURATION + 30))
echo "variant,round,requests,errors,not_200,wall_s,user_s,sys_s,cpu_s,rps,req_per_cpu_s,exit" > "$CSV"

# run_one VARIANT ROUND: one bounded run; appends a CSV row.
run_one() {
    local v=$1 round=$2 base="$OUT_DIR/$1.$2" bin=$WSGIBENCH rc
    [ "$v" = baseline ] && bin=$BASELINE
    timeout -k 5 "$LIMIT" taskset -c "$GEN_CPU" /usr/bin/time -f '%U %S' -o "$base.time" \
        "$bin" tsung "$OUT_DIR/$v.xml" -q -t 1 --cpus "$GEN_CPU" --json "$base.json" \
        > "$base.out" 2> "$base.err"
    rc=$?
    python3 - "$v" "$round" "$base" "$rc" >> "$CSV" <<'EOF' || return 1
import json, sys
v, rnd, base, rc = sys.argv[1:]
user, sys_ = (float(x) for x in open(base + ".time").read().split()[-2:])
j = json.load(open(base + ".json"))
req, dur = j["requests"], j["duration_s"]
status = {}
for i in j.get("intervals", []):
    for code, n in i.get("status", {}).items():
        status[code] = status.get(code, 0) + n
not_200 = sum(n for code, n in status.items() if code != "200")
cpu = user + sys_
print(f"{v},{rnd},{req},{j.get('errors_total', 0)},{not_200},{dur:.3f},{user:.2f},{sys_:.2f},"
      f"{cpu:.2f},{req / dur if dur else 0:.0f},{req / cpu if cpu else 0:.0f},{rc}")
EOF
    tail -n1 "$CSV" | awk -F, '{ printf "  %-8s round %s: %9d req  %8.0f req/s  cpu %5.2fs  %8.0f req/cpu-s  not-200 %s  err %s rc %s\n", $1, $2, $3, $10, $9, $11, $5, $4, $12 }' >&2
}

for round in $(seq 1 "$ROUNDS"); do
    for v in $VARIANTS; do
        run_one "$v" "$round" || echo "  $v round $round: no result (see $OUT_DIR/$v.$round.*)" >&2
        sleep 1
    done
done

echo
echo "nginx on CPU $SERVER_CPU; wsgibench tsung -t 1 on CPU $GEN_CPU; $USERS users, ${DURATION}s x $ROUNDS rounds (interleaved); finder: $FINDER"
python3 - "$CSV" <<'EOF'
import csv, statistics as st, sys
rows = list(csv.DictReader(open(sys.argv[1])))
variants = []
for r in rows:
    if r["variant"] not in variants: variants.append(r["variant"])
def col(v, k): return [float(r[k]) for r in rows if r["variant"] == v]
med = {v: st.median(col(v, "req_per_cpu_s")) for v in variants}
ref = med.get("static")
print("| variant | runs | median req/s | median req per generator CPU-s | min-max | x static | not-200 answers (sum) | errors |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for v in variants:
    pc = col(v, "req_per_cpu_s")
    ratio = f"{med[v] / ref:.2f}" if ref else "-"
    print(f"| {v} | {len(pc)} | {st.median(col(v, 'rps')):,.0f} | {med[v]:,.0f} | {min(pc):,.0f}-{max(pc):,.0f} "
          f"| {ratio} | {int(sum(col(v, 'not_200')))} | {int(sum(col(v, 'errors')))} |")
EOF
echo
echo "raw results: $CSV"
