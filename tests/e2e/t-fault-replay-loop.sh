# t-fault-replay-loop.sh: a worker that dies on whatever it replays is
# broken, not its inputs. The saved state carries a late crash (the
# ledger's "crashlater": a version migrated to dies on its third input);
# started with another version, the worker dies replaying the journal's
# third input, then, that one dropped, on the next one. Only the first is
# dropped (it was never seen applied): the second fails the machine
# instead of eating the journal one input a restart (make chaos found
# 9,600 restarts doing that, under an intensity of 32 a second), and the
# binary that wrote the state, run again, applies every other input.
. "$(dirname "$0")/lib.sh"

use tests/ledger-v1 ledger
use tests/ledger-v2 ledger2
start --snapshot-inputs 1 ledger
expect "$("$S" call ledger arm crashlater)" ok arm
"$S" shutdown >/dev/null
wait "$SUP"
# The same version (no migration, no late crash): 100 inputs journaled
# after that snapshot, then the supervisor killed.
start --snapshot-inputs 0 --snapshot-interval 0 ledger
seq 1 100 | sed 's/^/1 /' | "$S" send -l ledger >/dev/null || fail "sends"
pid=$(col ledger 3)
kill -KILL "$SUP"
gone "$SUP"
kill -KILL "$pid"
: >"$T/log"

start --max-restarts 32/1 ledger=ledger2
wait_state ledger failed
expect_match "$("$S" status ledger)" 'ledger: failed: worker \(pid [0-9]+\) killed by signal 6 \(Aborted\) replaying input #[0-9]+, after one dropped in the same replay: no more are dropped' "a second input in one replay"
expect "$(grep -c 'dropped input #' "$T/log")" 1 "inputs dropped"
kill -0 "$SUP" || fail "the supervisor died"

# The binary that wrote the state: every input but the one dropped.
"$S" stop ledger >/dev/null
expect_match "$("$S" run ledger=ledger)" 'running version 1' "run with version 1"
expect_match "$("$S" call ledger dump 1)" '^last=100 count=99 chain=[0-9a-f]+ skipped=3$' "99 of 100 applied, once"
expect_match "$("$S" call ledger check)" '^violations=0 ' "in order"
