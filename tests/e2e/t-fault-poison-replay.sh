# t-fault-poison-replay.sh (issue 11, item 6): an input that crashes the
# worker (abort, exit, garbage on its channel) journaled before the
# supervisor died is dropped when the replay crashes on it, as a live one
# would be: logged with its sequence number, kept in the machine's
# dropped file, and the machine comes up with everything else.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
n=0
for poison in boom exit garbage; do
	start --fresh --snapshot-inputs 0 --snapshot-interval 0 --step-timeout 0 faulty
	for _ in 1 2 3; do "$S" call faulty incr >/dev/null; done
	pid=$(col faulty 3)
	kill -STOP "$pid"
	"$S" send faulty "$poison" || fail "$poison: not accepted"
	"$S" send faulty incr || fail "$poison: incr not accepted"
	"$S" send faulty incr || fail "$poison: incr not accepted"
	kill -KILL "$SUP"
	wait "$SUP" 2>/dev/null || true
	kill -KILL "$pid"
	: >"$T/log"
	start faulty
	wait_state faulty running
	expect_count faulty 5
	expect_match "$(cat "$T/log")" "faulty: dropped input #4 \\(replayed from the journal\\): worker \\(pid [0-9]+\\) " "$poison: dropped, with its number"
	expect_match "$(tail -1 "$T/state/faulty/dropped")" "#4 worker \\(pid [0-9]+\\) .*	$poison\$" "$poison: kept in the dropped file"
	"$S" shutdown
	wait "$SUP"
	# And it is not replayed again.
	: >"$T/log"
	start faulty
	expect_count faulty 5
	grep -q 'dropped input' "$T/log" && fail "$poison: dropped twice"
	"$S" shutdown
	wait "$SUP"
	n=$((n + 1))
done
cat "$T/state/faulty/dropped"
echo "$n poisons in the journal: each dropped once at replay, the machine up with the other inputs"
