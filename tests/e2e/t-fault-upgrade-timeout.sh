# t-fault-upgrade-timeout.sh (issue 11, item 2): an upgrade that times out
# waiting for a large state leaves the old worker serving: its late image
# is recognised by the token of its request and dropped, not taken as a
# protocol error. Two clients (a stream of sends, a loop of calls) run
# through it; every input is applied once, in order, by the same worker.
. "$(dirname "$0")/lib.sh"

use tests/ledger-v1 ledger
use tests/ledger-v2 ledger2
start ledger
"$S" call ledger pad 41943040 >/dev/null
# By descriptor 40 MiB cross in tens of milliseconds: the save is made slow
# (300 ms) so that a 200 ms deadline passes on any machine, and a new worker says
# hello within it even under ASan.
"$S" call ledger arm saveslow >/dev/null
pid=$(col ledger 3)
seq 1 20000 | awk '{ print 1, $1; if (NR % 500 == 0) { fflush(); system("sleep 0.01") } }' |
	"$S" send -l ledger >"$T/s1.out" 2>"$T/s1.err" &
sender=$!
(
	for i in $(seq 1 200); do
		"$S" call ledger 2 "$i" >/dev/null 2>>"$T/c2.err" || echo "call $i failed"
	done
) >"$T/c2.out" 2>&1 &
caller=$!
sleep 0.2
status_of 1 "$S" upgrade -t 0.2 ledger=ledger2
expect_match "$(cat "$T/err")" "timed out after 0.2s waiting for the running worker's state; version 1 keeps serving" "upgrade answer"
wait "$sender" || fail "sender: $(head -3 "$T/s1.err")"
wait "$caller"
expect "$(cat "$T/c2.out")" "" "calls during the upgrade: $(head -3 "$T/c2.err" 2>/dev/null)"
for _ in $(seq 100); do
	grep -q 'ledger: dropped the late image of an abandoned request' "$T/log" && break
	sleep 0.05
done
grep -q 'ledger: dropped the late image of an abandoned request' "$T/log" || fail "late image not seen"
expect "$(col ledger 3)" "$pid" "the same worker serves"
expect "$(col ledger 2)" 1 "version"
expect "$(col ledger 4)" running "state"
expect "$("$S" call ledger check)" "violations=0 total=20200 generation=0 skipped=0" "every input once, in order"
expect_match "$("$S" call ledger dump 1)" '^last=20000 count=20000 ' "sender"
expect_match "$("$S" call ledger dump 2)" '^last=200 count=200 ' "caller"
# The same upgrade with time enough goes through.
"$S" call ledger arm none >/dev/null
"$S" upgrade ledger=ledger2 >/dev/null || fail "upgrade with the default timeout: $(cat "$T/err")"
expect "$(col ledger 2)" 2 "version after a second try"
