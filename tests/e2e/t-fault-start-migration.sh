# t-fault-start-migration.sh: a supervisor started with a binary whose
# migration of the saved state always dies (here it exits) restarts it
# as its intensity allows (32 in 1 s: a backoff alone would keep it under
# that for ever), then, at the 33rd death in a row before it is ready,
# fails the machine: the call waiting for it gets an error instead of
# waiting for ever, the sends it accepted stay in the journal, and the
# binary that wrote the state, run again, applies every one of them once,
# in order.
. "$(dirname "$0")/lib.sh"

use tests/ledger-v1 ledger
use tests/ledger-v2 ledger2
start --snapshot-inputs 1 ledger
expect "$("$S" call ledger arm exit)" ok "arming"
seq 1 50 | sed 's/^/1 /' | "$S" send -l ledger >/dev/null
"$S" shutdown >/dev/null
wait "$SUP" || fail "shutdown"

# Version 2 cannot take version 1's state: its migration exits.
start --max-restarts 32/1 ledger=ledger2
seq 51 60 | sed 's/^/1 /' | "$S" send -l ledger >"$T/send.out" 2>&1 ||
	fail "sends while it restarts: $(cat "$T/send.out")"
timeout 30 "$S" call ledger dump 1 >"$T/call.out" 2>"$T/call.err" &
call=$!
wait_state ledger failed
expect_match "$("$S" status ledger)" 'ledger: failed: died before it caught up 33 times in a row; last: worker \(pid [0-9]+\) exited with status 0' "a worker that cannot start"
set +e
wait "$call"
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "the waiting call: exit $rc: $(cat "$T/call.out")"
expect_match "$(cat "$T/call.err")" 'not applied|is failed' "the waiting call's error"
kill -0 "$SUP" || fail "the supervisor died"

# The binary that wrote the state: nothing accepted was lost.
"$S" stop ledger >/dev/null
expect_match "$("$S" run ledger=ledger)" 'running version 1' "run with version 1"
expect "$("$S" call ledger arm none)" ok "disarming"
expect_match "$("$S" call ledger dump 1)" '^last=60 count=60 chain=[0-9a-f]+ skipped=$' "every send applied once"
expect_match "$("$S" call ledger check)" '^violations=0 ' "no input applied twice or out of order"
