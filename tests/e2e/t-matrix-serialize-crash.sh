# t-matrix-serialize-crash.sh: the running worker crashes while it
# serializes its state: the upgrade fails cleanly (the new worker is
# killed), the machine is marked failed with the reason, and every caller
# gets an answer.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
use tests/faulty-v2 faulty2
start faulty
"$S" call faulty arm savecrash >/dev/null
load_start faulty 3000
sleep 0.1
status_of 1 "$S" upgrade faulty=faulty2
expect_match "$(cat "$T/err")" 'faulty: upgrade aborted: worker \(pid [0-9]+\) killed by signal 6' "upgrade answer"
wait "$LOAD" || true
ok=$(grep -c '^ok$' "$T/load.out")
bad=$(grep -c 'machine faulty' "$T/load.err" || true)
lost=$(grep -c 'lost the supervisor' "$T/load.err" || true)
expect "$lost" 0 "answers lost"
expect "$((ok + bad))" 3000 "every input answered once"
expect "$(col faulty 4)" failed state
expect_match "$("$S" status faulty)" 'faulty: failed: worker \(pid [0-9]+\) killed by signal 6' "status reason"
pgrep -f "$T/faulty2" >/dev/null && fail "the new worker is still running"
true
