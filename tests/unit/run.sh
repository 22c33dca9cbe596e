#!/bin/sh
# run.sh: run every criterion binary and sum up their results.
# Usage: tests/unit/run.sh BINARY...
set -u
export LC_ALL=C
pass=0 fail=0 status=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$@"; do
	"$t" --jobs 2 --short-filename >"$out" 2>&1 || status=1
	line=$(grep 'Synthesis:' "$out" | tail -1)
	if [ -z "$line" ]; then
		cat "$out"
		echo "$(basename "$t"): no synthesis line" >&2
		fail=$((fail + 1))
		status=1
		continue
	fi
	[ $status -eq 0 ] || cat "$out"
	echo "$(basename "$t"): $line"
	p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(echo "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	pass=$((pass + p))
	fail=$((fail + f + c))
done
echo "unit: $pass passed, $fail failed"
[ $status -eq 0 ] && [ $fail -eq 0 ]
