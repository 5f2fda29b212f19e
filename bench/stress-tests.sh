#!/usr/bin/env bash
# The whole test suite while more busy loops than CPUs compete for them: a test that
# passes here holds on a shared, loaded CI machine. Exit status: the tests'.
#
#   bench/stress-tests.sh              # nproc + 1 busy loops, one round
#   ROUNDS=3 bench/stress-tests.sh     # three rounds in a row, stop at the first failure
#   LOOPS=6 bench/stress-tests.sh -p wsgibench-engine   # extra args go to cargo test
#
# The busy loops are this script's own children, each bounded by `timeout`, and are
# ended by PID when the script exits, however it exits.
set -euo pipefail
cd "$(dirname "$0")/.."

# The outside tools .ci/run installs into a venv of their own (kubernetes-validate).
tools_venv="${XDG_CACHE_HOME:-$HOME/.cache}/wsgibench-ci/tools-venv"
[ -d "$tools_venv/bin" ] && export PATH="$tools_venv/bin:$PATH"

loops=${LOOPS:-$(( $(nproc) + 1 ))}
rounds=${ROUNDS:-1}
limit_s=${LIMIT_S:-7200}
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--workspace)

# Build first, unloaded: the point is the tests under load, not the compiler.
cargo test --locked "${args[@]}" --no-run --quiet

pids=()
stop_loops() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_loops EXIT
for _ in $(seq "$loops"); do
    timeout "$limit_s" sh -c 'while :; do :; done' &
    pids+=("$!")
done
echo "stress: $loops busy loops on $(nproc) CPUs (PIDs ${pids[*]}), $rounds round(s)"

for round in $(seq "$rounds"); do
    started=$(date +%s)
    # CI=1: a missing outside tool fails here as it would on CI.
    if CI=1 cargo test --locked "${args[@]}" --no-fail-fast; then
        echo "stress: round $round passed in $(( $(date +%s) - started )) s"
    else
        echo "stress: round $round FAILED after $(( $(date +%s) - started )) s"
        exit 1
    fi
done
echo "stress: all $rounds round(s) passed under $loops busy loops"
