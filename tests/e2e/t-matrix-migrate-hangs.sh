# t-matrix-migrate-hangs.sh: a migration that hangs is rolled back when the
# timeout strikes: per call (-t), and per machine (run --upgrade-timeout).
# The inputs held during the pause go to the old worker. Under load.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
use tests/faulty-v2 faulty2
start --upgrade-timeout 0.6 faulty
pid=$(col faulty 3)
"$S" call faulty arm hang >/dev/null
load_start faulty 6000

# The machine's own timeout.
status_of 1 "$S" upgrade faulty=faulty2
expect_match "$(cat "$T/err")" 'timed out after 0.6s waiting for the migration; version 1 keeps serving' "machine timeout"
expect_kept faulty 1 "$pid"

# A timeout for this call only; calls made during the pause wait and are
# answered once the old worker resumes.
"$S" upgrade -t 1 faulty=faulty2 >"$T/up.out" 2>"$T/up.err" &
up=$!
sleep 0.4
expect "$(col faulty 4)" migrating "state during a hanging migration"
[ "$(col faulty 6)" -gt 0 ] || fail "no input held during the pause"
expect "$("$S" call faulty arm none)" ok "a call during the pause"
if wait $up; then fail "a hanging upgrade succeeded"; fi
expect_match "$(cat "$T/up.err")" 'timed out after 1s waiting for the migration' "call timeout"
expect_kept faulty 1 "$pid"
load_wait
expect_count faulty 6000
