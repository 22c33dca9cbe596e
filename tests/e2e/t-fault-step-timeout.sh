# t-fault-step-timeout.sh (issue 11, item 8): a worker that gives no
# answer within --step-timeout is killed and handled as a crash. A step
# that never returns: that input gets an error and is dropped, the inputs
# after it are applied. A stopped worker (SIGSTOP, in no input): nothing
# is dropped, the call and the state query it held are answered by the
# next worker. `call -t` and `state -t` give up on the client side, and
# the input is applied all the same. smsup.conf takes step-timeout.
. "$(dirname "$0")/lib.sh"

use tests/ledger-v1 ledger
start --step-timeout 0.5 ledger
"$S" call ledger 1 1 >/dev/null

# A step that never returns.
"$S" send ledger hang || fail "hang not accepted"
"$S" send ledger 1 2 || fail "send not accepted"
began=$(date +%s.%N)
expect "$("$S" call ledger 1 3)" "ok 1 3" "the call after the hung input"
took=$(awk "BEGIN { print $(date +%s.%N) - $began }")
awk "BEGIN { exit !($took < 5) }" || fail "the hung step took ${took}s to time out"
expect_match "$(cat "$T/log")" 'ledger: worker \(pid [0-9]+\) gave no answer in 0.5s \(--step-timeout\): killing it' "logged"
expect_match "$(cat "$T/log")" 'ledger: dropped input #2: worker \(pid [0-9]+\) gave no answer in 0.5s \(--step-timeout\)' "the hung input dropped"
grep -q '	hang$' "$T/state/ledger/dropped" || fail "hang not in the dropped file"
expect_match "$("$S" call ledger dump 1)" '^last=3 count=3 ' "every other input applied"

# A stopped worker: nothing dropped, the call and the query answered.
pid=$(col ledger 3)
kill -STOP "$pid"
"$S" call ledger 1 4 >"$T/call4" 2>&1 &
c4=$!
"$S" state ledger >"$T/state4" 2>&1 &
q4=$!
wait "$c4" || fail "call held by a stopped worker: $(cat "$T/call4")"
wait "$q4" || fail "state held by a stopped worker: $(cat "$T/state4")"
kill -CONT "$pid" 2>/dev/null || true
expect "$(cat "$T/call4")" "ok 1 4" "answered by the next worker"
expect_match "$(cat "$T/state4")" '"total":4' "the state after it"
[ "$(col ledger 3)" != "$pid" ] || fail "stopped worker not replaced"
expect "$(grep -c 'dropped input' "$T/log")" 1 "only the hung input dropped"

# On the client side.
status_of 1 "$S" call -t 0.2 ledger sleep 400
expect "$(cat "$T/err")" "smsup: no answer within 0.2s: the input may still be applied" "call -t"
expect "$("$S" call ledger 1 5)" "ok 1 5" "the machine after call -t"
status_of 2 "$S" call -t x ledger 1 6
"$S" call ledger sleep 400 >/dev/null &
slow=$!
sleep 0.1
status_of 1 "$S" state -t 0.1 ledger
expect "$(cat "$T/err")" "smsup: no answer within 0.1s" "state -t"
wait "$slow"

# From the attack on this release: inputs pipelined, 40 x 50 ms = 2 s
# of work in one batch, against a 0.5 s deadline: each answer leaves as
# it is made, so the deadline counts from the last one and the worker
# is not killed (it was, every restart again, until the machine failed).
pid=$(col ledger 3)
out=$(awk 'BEGIN { for (i = 0; i < 40; i++) print "sleep 50" }' | "$S" call -l ledger) ||
	fail "pipelined slow steps: $out"
expect "$(printf '%s\n' "$out" | grep -c '^ok')" 40 "40 slow steps answered"
expect "$(col ledger 3)" "$pid" "the worker through 2 s of pipelined steps"
expect "$(grep -c 'dropped input' "$T/log")" 1 "no input dropped for being slow in a batch"

# In smsup.conf, and shown by status.
cat >"$T/c.conf" <<CONF
machine ledger2 {
	path $T/ledger
	step-timeout 2.5
}
CONF
"$S" check-config -c "$T/c.conf" >/dev/null || fail "step-timeout refused in smsup.conf"
expect_match "$("$S" status ledger)" 'deadline    0.5s per answer \(--step-timeout\)' "status"
printf 'machine x {\n\tpath %s\n\tstep-timeout soon\n}\n' "$T/ledger" >"$T/bad.conf"
status_of 1 "$S" check-config -c "$T/bad.conf"
expect_match "$(cat "$T/err")" "bad.conf:3: bad value 'soon' for --step-timeout" "a bad value"
