# t-matrix-not-accepted.sh: a version that does not migrate from the
# running one is refused before the machine pauses, with the versions it
# accepts. Under load.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
use tests/faulty-v3 faulty3
start faulty
pid=$(col faulty 3)
load_start faulty 3000
status_of 1 "$S" upgrade faulty=faulty3
expect "$(cat "$T/err")" "smsup: faulty: upgrade failed: version 3 does not migrate from 1 (it accepts: 2); version 1 keeps serving" refusal
expect_kept faulty 1 "$pid"
load_wait
expect_count faulty 3000
