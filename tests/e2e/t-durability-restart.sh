# t-durability-restart.sh: a graceful shutdown and start of 3 machines
# gives every state back identical; a newer binary migrates the saved
# state on start; two supervisors cannot share a state directory; --fresh
# starts from init and keeps the old files aside.
. "$(dirname "$0")/lib.sh"

use examples/counter-v1 counter
use examples/kv-v1 kv
use tests/orderly-v1 orderly
start counter kv orderly
for i in $(seq 7); do "$S" call counter incr >/dev/null; done
"$S" call kv put name smsup >/dev/null
"$S" call kv put motto "state outlives processes" >/dev/null
seq 1 3000 | sed 's/^/0 /' | "$S" call -l orderly >/dev/null
check=$("$S" call orderly check)

# SIGTERM: a graceful stop, final snapshots, empty journals.
kill -TERM "$SUP"
wait "$SUP" || fail "supervisor exit status after SIGTERM"
for m in counter kv orderly; do
	[ -s "$(newest $m snapshot)" ] || fail "$m: no final snapshot"
done
start counter kv orderly
expect "$("$S" call counter count)" 7 "counter after restart"
expect "$("$S" call kv get motto)" "state outlives processes" "kv after restart"
expect "$("$S" call kv size)" 2 "kv size after restart"
expect "$("$S" call orderly check)" "$check" "orderly after restart"
grep -q 'counter: resuming from its saved state' "$T/log" || fail "resume not logged"

# A newer binary: the saved state (v1) migrates on start.
"$S" shutdown
wait "$SUP"
use examples/counter-v2 counter
start counter
grep -q 'counter: migrating its saved state from version 1 to 2' "$T/log" || fail "no migration on start"
expect "$(col counter 2)" 2 version
expect "$("$S" call counter count)" 7 "count after migrating on start"

# A second supervisor on the same state directory is refused.
status_of 1 "$S" -S "$T/other.sock" run
expect_match "$(cat "$T/err")" "state directory $T/state is in use by the supervisor with pid $SUP" "second supervisor"

# --fresh: from init, the old files kept aside.
"$S" stop counter >/dev/null
"$S" run --fresh counter >/dev/null
expect "$("$S" call counter count)" 0 "count after --fresh"
ls -d "$T/state/counter.aside-"* >/dev/null 2>&1 || fail "old files not kept aside"
