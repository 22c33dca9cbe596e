# t-matrix-probation.sh: a new version that crashes soon after confirming,
# within its probation window: the old worker, kept suspended, resumes;
# the inputs the new one answered are replayed into it, the input it died
# in gets an error, nothing applied is lost. Under load.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
use tests/faulty-v2 faulty2
start --probation 3 faulty
for _ in 1 2 3 4 5; do "$S" call faulty incr >/dev/null; done
"$S" call faulty arm crashlater >/dev/null
oldpid=$(col faulty 3)

# The new version dies on its third input: two incr are answered by it,
# the third gets the error.
"$S" upgrade faulty=faulty2 >"$T/up.out" 2>"$T/up.err" &
up=$!
for _ in $(seq 50); do
	[ "$(col faulty 4)" = probation ] && break
	sleep 0.05
done
expect "$(col faulty 4)" probation "state in the window"
expect "$(col faulty 2)" 2 "version in the window"
expect "$("$S" call faulty incr)" ok "first input to v2"
expect "$("$S" call faulty incr)" ok "second input to v2"
status_of 1 "$S" call faulty incr
expect_match "$(cat "$T/err")" 'faulty version 2 crashed applying this input \(killed by signal 6 \(Aborted\)\); rolled back to version 1' "the input it died in"
if wait $up; then fail "upgrade reported success"; fi
expect_match "$(cat "$T/up.err")" 'rolled back to version 1: version 2 killed by signal 6 \(Aborted\) during its probation; 2 inputs replayed into the old worker, 0 sent to it again' report
expect "$(col faulty 3)" "$oldpid" "the old worker serves again"
expect "$(col faulty 2)" 1 "version after the rollback"
expect_count faulty 7

# Under load: the same again with a stream of inputs; nothing lost.
"$S" call faulty arm crashlater >/dev/null
load_start faulty 3000
sleep 0.1
"$S" upgrade faulty=faulty2 >"$T/up.out" 2>"$T/up.err" || true
expect_match "$(cat "$T/up.err")" 'rolled back to version 1' "rollback under load"
wait "$LOAD" || true
ok=$(grep -c '^ok$' "$T/load.out")
errors=$(grep -c 'crashed applying this input' "$T/load.err" || true)
expect "$errors" 1 "inputs answered with the crash"
expect "$((ok + errors))" 3000 "every input answered once"
expect_count faulty $((7 + ok))

# With no crash, the window closes and the upgrade stands.
"$S" call faulty arm none >/dev/null
out=$("$S" upgrade -p 0.5 faulty=faulty2)
expect_match "$out" 'upgraded 1 -> 2' "upgrade after probation"
expect "$(col faulty 2)" 2 "version after probation"
expect "$(col faulty 4)" running "state after probation"
expect_count faulty $((7 + ok))
