# t-supervise-kill-worker.sh: SIGKILL the worker under load, 50 times.
# Each time the machine restarts from its snapshot and journal; only an
# input the worker was inside when killed gets a crash error and is not
# applied (the others it had go to the next worker); the count is exact at
# the end.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
start --max-restarts 32/0.2 --snapshot-inputs 500 faulty
for c in 0 1; do
	awk 'BEGIN { for (i = 1; i <= 20000; i++) { print "incr"; if (i % 200 == 0) { fflush(); system("sleep 0.02") } } }' |
		"$S" call -l faulty >"$T/c$c.out" 2>"$T/c$c.err" &
	eval "pid$c=\$!"
done
kills=0
while [ $kills -lt 50 ]; do
	wait_state faulty running
	kill -KILL "$(col faulty 3)" 2>/dev/null || continue
	kills=$((kills + 1))
	sleep 0.03
done
wait_state faulty running
ok=0 crashed=0
for c in 0 1; do
	eval "wait \$pid$c" || true
	o=$(grep -c '^ok$' "$T/c$c.out" || true)
	e=$(grep -c 'machine faulty crashed applying this input (killed by signal 9 (Killed)); it was not applied$' "$T/c$c.err" || true)
	other=$(grep -v 'crashed applying this input (killed by signal 9' "$T/c$c.err" | grep -c . || true)
	expect "$other" 0 "client $c: other errors: $(grep -v 'crashed applying this input (killed by signal 9' "$T/c$c.err" | head -3)"
	expect "$((o + e))" 20000 "client $c: every input answered once"
	ok=$((ok + o))
	crashed=$((crashed + e))
done
expect_count faulty "$ok"
expect_match "$("$S" status faulty)" "restarts +50 \\(policy permanent\\)" restarts
echo "50 kills: $ok inputs applied, $crashed in flight got crash errors"
