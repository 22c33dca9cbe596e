#!/bin/sh
# durability.sh: what snapshots and durability cost in throughput, as a
# ratio to a baseline (no snapshots, memory only) measured in the same
# run. Each figure: N "incr" inputs pipelined by one `smsup send -l`,
# then one call to sync; the median of R runs.
# Usage: sh bench/durability.sh BUILD_DIR [N] [R]
set -eu
B=$(cd "${1:-build}" && pwd)
N=${2:-500000}
R=${3:-3}
D=$(mktemp -d "${TMPDIR:-/tmp}/smsup-bench.XXXXXX")
export SMSUP_SOCKET="$D/control.sock" SMSUP_STATE_DIR="$D/state"
trap 'pkill -KILL -f "$D/" 2>/dev/null; rm -rf "$D"' EXIT
install -m 0755 "$B/examples/counter-v1" "$D/counter"
yes incr | head -n "$N" >"$D/inputs"

# run OPTIONS...: inputs/s of one run.
run() {
	"$B/smsup" run --fresh "$@" counter="$D/counter" 2>>"$D/log" &
	sup=$!
	until "$B/smsup" status counter 2>/dev/null | grep -q ' running '; do
		sleep 0.02
	done
	t0=$(date +%s.%N)
	"$B/smsup" send -l counter <"$D/inputs"
	c=$("$B/smsup" call counter count)
	t1=$(date +%s.%N)
	[ "$c" = "$N" ] || { echo "count $c, expected $N" >&2; exit 1; }
	"$B/smsup" shutdown
	wait $sup
	awk "BEGIN { printf \"%d\", $N / ($t1 - $t0) }"
}

median() {
	tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

figure() {	# figure NAME OPTIONS...
	name=$1
	shift
	runs=
	for _ in $(seq "$R"); do runs="$runs $(run "$@")"; done
	echo "$name $(echo $runs | median)"
}

{
	figure baseline --durability none --snapshot-inputs 0 --snapshot-interval 0
	figure snapshots --durability none
	figure batch --durability batch
	figure always --durability always
} >"$D/results"
base=$(awk '$1 == "baseline" { print $2 }' "$D/results")
echo "| configuration | inputs/s (median of $R x $N) | vs baseline |"
echo "|---|---|---|"
awk -v base="$base" '{
	label["baseline"] = "memory only, no snapshots (baseline)"
	label["snapshots"] = "memory only, default snapshots (10000 inputs / 1 s)"
	label["batch"] = "durability batch (default), default snapshots"
	label["always"] = "durability always, default snapshots"
	printf "| %s | %d | %.2f |\n", label[$1], $2, $2 / base
}' "$D/results"
