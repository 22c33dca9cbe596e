# t-fault-worker-killed.sh (issue 11, item 1): acknowledged sends survive
# the death of a worker that had them but had not applied them. The
# worker is stopped (SIGSTOP) so that 10 sends are all given to it and
# none applied, then SIGKILLed: the next worker applies all 10, with
# durability batch and always. Then under load with per-client sequence
# numbers (the ledger): 20 kills of a busy worker drop at most the input
# each one was inside, every dropped one is named in the log and the
# dropped file, and every other acknowledged send is applied exactly
# once, in order. At shutdown, a hung worker's accepted inputs stay in
# the journal and are applied at the next start.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
use tests/ledger-v1 ledger
for mode in batch always; do
	start --durability $mode --fresh --step-timeout 0 faulty
	pid=$(col faulty 3)
	kill -STOP "$pid"
	for i in $(seq 10); do
		"$S" send faulty incr || fail "$mode: send $i not accepted"
	done
	kill -KILL "$pid"
	kill -CONT "$pid" 2>/dev/null || true
	wait_state faulty running
	[ "$(col faulty 3)" != "$pid" ] || fail "$mode: worker not replaced"
	expect_count faulty 10
	expect_match "$(cat "$T/log")" "faulty: worker \\(pid $pid\\) killed by signal 9 \\(Killed\\); no input lost, 10 inputs for the next worker" "$mode: log"
	"$S" shutdown
	wait "$SUP"
done

# Under load: 3 clients stream sends, the worker is killed 20 times.
start --max-restarts 32/1 --snapshot-inputs 300 ledger
for c in 1 2 3; do
	seq 1 6000 | awk -v c=$c '{ print c, $1; if (NR % 300 == 0) { fflush(); system("sleep 0.02") } }' |
		"$S" send -l ledger >"$T/s$c.out" 2>"$T/s$c.err" &
	eval "spid$c=\$!"
done
kills=0
while [ $kills -lt 20 ]; do
	wait_state ledger running
	kill -KILL "$(col ledger 3)" 2>/dev/null || continue
	kills=$((kills + 1))
	sleep 0.05
done
for c in 1 2 3; do
	eval "wait \$spid$c" || fail "client $c: $(head -3 "$T/s$c.err")"
done
wait_state ledger running
dropped=$(grep -c 'ledger: dropped input #' "$T/log" || true)
[ "$dropped" -le 20 ] || fail "$dropped inputs dropped by 20 kills"
if [ "$dropped" -gt 0 ]; then
	expect "$(wc -l <"$T/state/ledger/dropped")" "$dropped" "dropped file"
fi
expect_match "$("$S" call ledger check)" '^violations=0 ' "no input applied twice or out of order"
total=0
for c in 1 2 3; do
	d=$("$S" call ledger dump $c)
	# Each skipped number is an input of this client in the dropped file.
	for n in $(printf '%s\n' "$d" | sed 's/.*skipped=//' | tr ',' ' '); do
		grep -q "	$c $n\$" "$T/state/ledger/dropped" ||
			fail "client $c: input $n lost without being dropped"
	done
	expect_match "$d" '^last=6000 ' "client $c: last input applied"
	total=$((total + $(printf '%s\n' "$d" | sed 's/.*count=\([0-9]*\).*/\1/')))
done
expect "$total" "$((18000 - dropped))" "inputs applied"
"$S" shutdown
wait "$SUP"

# A hung worker at shutdown: what it accepted is applied at the next start.
start --fresh --step-timeout 1 faulty
pid=$(col faulty 3)
kill -STOP "$pid"
seq 1000 | sed 's/.*/incr/' | "$S" send -l faulty || fail "sends refused"
"$S" shutdown
wait "$SUP"
SUP=
kill -CONT "$pid" 2>/dev/null || true
start faulty
expect_count faulty 1000
echo "SIGSTOP+SIGKILL: 10 of 10 applied (batch, always); 20 kills under load: $dropped dropped, every other input applied once; hung at shutdown: 1000 of 1000 applied at the next start"
