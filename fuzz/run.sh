#!/bin/sh
# run.sh: run each libFuzzer harness for a while from its seed corpus, and
# print one line each: executions, new inputs, and whether it crashed.
# Usage: fuzz/run.sh BUILD SECONDS HARNESS...
set -u
B=$1; secs=$2; shift 2
fail=0
for h in "$@"; do
	mkdir -p "$B/fuzz/corpus/$h"
	log="$B/fuzz/$h.log"
	"$B/fuzz/$h" -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix="$B/fuzz/crash-$h-" -rss_limit_mb=2048 \
	    "$B/fuzz/corpus/$h" "$(dirname "$0")/corpus/$h" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	corp=$(ls "$B/fuzz/corpus/$h" | wc -l)
	if [ $rc -eq 0 ]; then
		echo "fuzz $h: ${runs:-?} executions in ${secs}s, corpus $corp, no crash"
	else
		echo "fuzz $h: CRASHED (exit $rc); see $log and $B/fuzz/crash-$h-*"
		grep -m 5 -E 'ERROR|SUMMARY|runtime error' "$log"
		fail=1
	fi
done
exit $fail
