# t-client-lib.sh (issue 13): programs talk to machines with the client
# library (smsup/client.h): examples/client/pipeline (its own poll loop)
# and tests/tools/client-ev (a libev loop) pipeline calls and sends on
# one connection. Every request gets exactly one answer: outputs in the
# machine's order (four clients checked by sequence numbers while the
# machine is upgraded and back), errors with their text, timeouts whose
# late answers are dropped, and the loss of the supervisor.
. "$(dirname "$0")/lib.sh"

P="$B/examples/client-pipeline"
E="$B/tests/client-ev"
use examples/counter-v1 counter
use tests/orderly-v1 orderly
use tests/orderly-v2 orderly-v2
use tests/ledger-v1 ledger
start counter orderly ledger

expect "$("$P" -n 20000 counter incr)" "20000 ok, 0 errors, 0 timed out, 0 lost; last: ok" "20,000 calls pipelined"
expect "$("$P" -s -n 5000 counter incr)" "5000 ok, 0 errors, 0 timed out, 0 lost; last: " "5,000 sends"
expect_count counter 25000
expect "$("$E" 20000 counter incr)" "20000 ok 0 errors 0 timeouts 0 lost 0 wrong" "from a libev loop"
expect_count counter 45000

# Four programs at once, each its own sequence, through two upgrades.
for c in 0 1 2 3; do
	"$P" -n 5000 -w 300 orderly "$c %n" >"$T/p$c" 2>&1 &
	eval "pid$c=\$!"
done
"$S" upgrade orderly=./orderly-v2 >/dev/null || fail "upgrade"
"$S" upgrade orderly=./orderly >/dev/null || fail "upgrade back"
for c in 0 1 2 3; do
	eval "wait \$pid$c" || fail "program $c: $(cat "$T/p$c")"
	expect "$(cat "$T/p$c")" "5000 ok, 0 errors, 0 timed out, 0 lost; last: ok" "program $c"
done
expect "$("$S" call orderly check)" "total=20000 violations=0 generation=2 last=5000,5000,5000,5000" "the machine's model"

# Errors: each request its own, with its text.
status_of 1 "$P" -n 3 nosuch incr
expect "$(cat "$T/out")" "0 ok, 3 errors, 0 timed out, 0 lost; last: no such machine: nosuch" "an unknown machine"
status_of 1 "$P" -n 2 counter nonsense
expect_match "$(cat "$T/out")" "^0 ok, 2 errors, .*last: unknown input 'nonsense'" "a machine's error"
# Timeouts: every one told once; the late answers dropped; a request
# queued before the timeout was set has none (it timed out at once).
expect "$("$E" -t 0.2 3 ledger "sleep 300")" "1 ok 0 errors 2 timeouts 0 lost 0 wrong" "timeouts"
expect "$("$S" call ledger 1 1)" "ok 1 1" "the machine after the timeouts"
# No supervisor.
status_of 3 "$P" -S "$T/none.sock" counter incr
expect_match "$(cat "$T/err")" "no supervisor on $T/none.sock" "no supervisor"
status_of 2 "$P" counter
# The supervisor killed under a stream: each request answered or lost.
"$E" 2000000 counter incr >"$T/ev" 2>&1 &
ev=$!
sleep 0.3
kill -KILL "$SUP"
wait "$ev" || fail "client-ev: $(cat "$T/ev")"
SUP=
read -r ok _ errs _ tos _ lost _ wrong _ <"$T/ev"
expect "$((ok + errs + tos + lost))" 2000000 "answers and losses: $(cat "$T/ev")"
expect "$wrong" 0 "requests answered twice or never"
[ "$lost" -gt 0 ] || fail "the stream finished before the kill: $(cat "$T/ev")"
