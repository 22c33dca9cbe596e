# t-matrix-serialize-crash.sh: the running worker crashes while it
# serializes its state: the upgrade fails cleanly (the new worker is
# killed), the machine is restarted by its policy from its snapshot and
# journal, status says so, and every caller gets one answer.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
use tests/faulty-v2 faulty2
start faulty
"$S" call faulty arm savecrash >/dev/null
load_start faulty 3000
sleep 0.1
status_of 1 "$S" upgrade faulty=faulty2
expect_match "$(cat "$T/err")" 'faulty: upgrade aborted: killed by signal 6' "upgrade answer"
wait "$LOAD" || true
ok=$(grep -c '^ok$' "$T/load.out")
bad=$(grep -c 'machine faulty crashed' "$T/load.err" || true)
other=$(grep -v 'machine faulty crashed' "$T/load.err" | grep -c . || true)
expect "$other" 0 "other errors: $(head -3 "$T/load.err")"
expect "$((ok + bad))" 3000 "every input answered once"
wait_state faulty running
expect_match "$("$S" status faulty)" 'restarts +1 \(policy permanent\), last: worker \(pid [0-9]+\) killed by signal 6' "status says so"
pgrep -f "$T/faulty2" >/dev/null && fail "the new worker is still running"
# The inputs answered "ok" are all there; the ones in flight were not
# applied. The armed fault came back with the state: disarm it.
expect "$("$S" call faulty arm none)" ok disarm
expect_count faulty "$ok"
