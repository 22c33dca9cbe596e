# t-matrix-migrate-fails.sh: migrate returns an error, aborts (SIGABRT) or
# exits: each time the new worker is killed and the old one resumes with
# its state and the inputs held meanwhile. Under load.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
use tests/faulty-v2 faulty2
start faulty
pid=$(col faulty 3)
load_start faulty 4000
n=0
for c in "fail:migration from 1 failed: the armed fault says no" \
    "crash:new worker \\(pid [0-9]+\\) killed by signal 6 \\(Aborted\\) during the migration" \
    "exit:new worker \\(pid [0-9]+\\) exited with status 0 during the migration"; do
	"$S" call faulty arm "${c%%:*}" >/dev/null
	status_of 1 "$S" upgrade faulty=faulty2
	expect_match "$(cat "$T/err")" "^smsup: faulty: upgrade failed: ${c#*:}; version 1 keeps serving$" "${c%%:*}"
	expect_kept faulty 1 "$pid"
	n=$((n + 1))
done
load_wait
expect_count faulty 4000
# Disarmed, the same upgrade goes through with the exact count.
"$S" call faulty arm none >/dev/null
expect_match "$("$S" upgrade faulty=faulty2)" 'upgraded 1 -> 2' "clean upgrade"
expect_count faulty 4000
