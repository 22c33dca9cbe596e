#!/bin/sh
# run.sh: run every end-to-end test, N at a time, and sum up.
# Usage: tests/e2e/run.sh [-j N] BUILD_DIR [test.sh...]
set -u
jobs=2
if [ "${1:-}" = "-j" ]; then
	jobs=$2
	shift 2
fi
BUILD=$(cd "${1:-build}" && pwd)
export BUILD
shift || true
dir=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- "$dir"/t-*.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Each test: PASS/FAIL line, its output kept only on failure.
printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh -c '
	t={}; n=$(basename "$t" .sh)
	start=$(date +%s.%N)
	if timeout 300 sh "$t" >"$0/$n.log" 2>&1; then r=PASS; else r=FAIL; fi
	end=$(date +%s.%N)
	printf "%s %-28s %6.2fs\n" "$r" "$n" "$(awk "BEGIN { print $end - $start }")"
	echo "$r" >"$0/$n.result"
' "$out"

pass=0 fail=0
for r in "$out"/*.result; do
	n=$(basename "$r" .result)
	if [ "$(cat "$r")" = PASS ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "--- $n" >&2
		cat "$out/$n.log" >&2
	fi
done
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
