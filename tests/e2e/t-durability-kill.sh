# t-durability-kill.sh: SIGKILL the supervisor under load, then start it
# again on the same state directory. With `always` no acknowledged input is
# lost; with `batch`, this test measures what is (the journal is written
# at every loop iteration, so a killed process loses none; an OS crash
# could lose the last few ms that were not yet fsync'd).
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
for mode in always batch; do
	"$S" run --durability $mode --fresh faulty 2>>"$T/log" &
	SUP=$!
	wait_state faulty running
	awk 'BEGIN { for (i = 1; i <= 200000; i++) { print "incr"; if (i % 500 == 0) { fflush(); system("sleep 0.005") } } }' |
		"$S" call -l faulty >"$T/$mode.out" 2>"$T/$mode.err" &
	load=$!
	sleep 1
	kill -KILL "$SUP"
	wait $load 2>/dev/null || true
	acked=$(grep -c '^ok$' "$T/$mode.out")
	[ "$acked" -gt 1000 ] || fail "$mode: only $acked inputs before the kill"
	pkill -KILL -f "$T/faulty" || true
	"$S" run --durability $mode faulty 2>>"$T/log" &
	SUP=$!
	wait_state faulty running
	count=$("$S" call faulty count)
	# Every acknowledged input is there; more may be (applied and on
	# disk, with the answer lost with the process).
	[ "$count" -ge "$acked" ] || fail "$mode: lost $((acked - count)) acknowledged inputs ($count < $acked)"
	echo "$mode: $acked acknowledged, $count recovered, $((count - acked)) applied but unacknowledged, 0 lost"
	"$S" shutdown
	wait "$SUP" || true
done
SUP=
