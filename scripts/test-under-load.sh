#!/usr/bin/env bash
# Runs `npm test` N times in a row with busy-loop processes beside it (one per core by default), and reports each
# run's result and wall duration: issue 16's acceptance line "npm test passes three times in a row with two
# busy-loop processes running beside it" (docs/decisions.md D53). The loops are killed on every exit path.
#
#   scripts/test-under-load.sh [runs=3] [loops=2]
#   TEST_CMD="npx vitest run test/e2e" scripts/test-under-load.sh 1     # another command, same harness
#
# Logs go to ${LOG_DIR:-/tmp/test-under-load-<time>}/run-<i>.log; a summary line per run is printed and appended to
# summary.txt there. Exit status: 0 when every run passed, 1 otherwise (later runs still run, to count the flakes).
set -u
runs=${1:-3}
loops=${2:-2}
cmd=${TEST_CMD:-npm test}
log_dir=${LOG_DIR:-/tmp/test-under-load-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$log_dir"
cd "$(dirname "$0")/.."

pids=()
run_pid=
cleanup() {
  # Only what this script started, by pid: the test run's process group, then the loops.
  if [ -n "$run_pid" ]; then kill -TERM -- "-$run_pid" 2>/dev/null; fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for ((i = 0; i < loops; i++)); do
  node -e 'for(;;){}' &
  pids+=($!)
done
echo "busy loops: ${pids[*]}; command: $cmd; logs: $log_dir" | tee -a "$log_dir/summary.txt"

failed=0
for ((r = 1; r <= runs; r++)); do
  start=$(date +%s)
  # Its own process group (setsid), so that an interrupted run takes its vitest workers and daemons with it.
  setsid bash -c "$cmd" >"$log_dir/run-$r.log" 2>&1 &
  run_pid=$!
  wait "$run_pid"
  rc=$?
  run_pid=
  secs=$(($(date +%s) - start))
  plain=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log_dir/run-$r.log")
  files=$(grep -E '^ *Test Files ' <<<"$plain" | tail -1 | sed -E 's/^ +//')
  tests=$(grep -E '^ *Tests ' <<<"$plain" | tail -1 | sed -E 's/^ +//')
  if [ "$rc" -eq 0 ]; then verdict=PASS; else verdict=FAIL; failed=1; fi
  line="run $r/$runs: $verdict (exit $rc) in ${secs} s, load $(cut -d' ' -f1-3 /proc/loadavg); ${files:-no vitest summary}; ${tests:-}"
  echo "$line" | tee -a "$log_dir/summary.txt"
  if [ "$rc" -ne 0 ]; then
    grep -E '(FAIL|×) |safety net|timed out' <<<"$plain" | sort -u | head -20 | sed 's/^/    /' | tee -a "$log_dir/summary.txt"
  fi
done
exit $failed
