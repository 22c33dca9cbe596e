# t-failed-upgrades.sh: whatever goes wrong before the new worker confirms,
# the old version keeps serving with its state, and inputs sent meanwhile
# are applied once.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
use tests/faulty-v2 faulty2
use tests/faulty-v3 faulty3
use examples/kv-v1 kv
start faulty
for _ in 1 2 3; do "$S" call faulty incr >/dev/null; done
pid=$(col faulty 3)

expect_refused() {	# expect_refused PATTERN upgrade-args...
	pat=$1
	shift
	status_of 1 "$S" upgrade "$@"
	expect_match "$(cat "$T/err")" "$pat" "upgrade $*"
	expect "$(col faulty 2)" 1 "version after a failed upgrade"
	expect "$(col faulty 3)" "$pid" "pid after a failed upgrade"
	expect "$(col faulty 4)" running "state after a failed upgrade"
}

# migrate returns an error.
"$S" call faulty arm fail >/dev/null
expect_refused 'migration from 1 failed: the armed fault says no; version 1 keeps serving' faulty=faulty2
expect "$("$S" call faulty count)" 3 "count after a failed migration"

# migrate crashes (abort).
"$S" call faulty arm crash >/dev/null
expect_refused 'new worker \(pid [0-9]+\) killed by signal 6 \(Aborted\) during the migration' faulty=faulty2

# migrate exits.
"$S" call faulty arm exit >/dev/null
expect_refused 'exited with status 0 during the migration' faulty=faulty2

# migrate hangs: the timeout rolls back; inputs sent during the pause
# are held, then applied by the old worker.
"$S" call faulty arm hang >/dev/null
"$S" upgrade -t 1 faulty=faulty2 >"$T/up.out" 2>"$T/up.err" &
up=$!
sleep 0.3
expect "$(col faulty 4)" migrating "state during a hanging migration"
for _ in 1 2 3 4 5; do "$S" send faulty incr; done
expect "$(col faulty 6)" 5 "inputs buffered during the pause"
if wait $up; then fail "hanging upgrade succeeded"; fi
expect_match "$(cat "$T/up.err")" 'timed out after 1s waiting for the migration' timeout
expect "$("$S" call faulty count)" 8 "count after the rollback"

# Binaries that are not (this) worker: refused before suspending.
"$S" call faulty arm none >/dev/null
printf '#!/bin/sh\nexit 0\n' >"$T/script"
chmod +x "$T/script"
expect_refused 'before saying hello' faulty="$T/script"
expect_refused 'No such file or directory' faulty="$T/missing"
printf 'not a program\n' >"$T/plain"
chmod 644 "$T/plain"
expect_refused 'not executable' faulty="$T/plain"
expect_refused 'is machine kv, not faulty' faulty=kv
expect_refused 'version 3 does not migrate from 1 \(it accepts: 2\)' faulty=faulty3
grep -q 'upgrade failed' "$T/log" || fail "failures not logged"

# And after all that, a good upgrade goes through with the exact count.
out=$("$S" upgrade faulty=faulty2)
expect_match "$out" 'upgraded 1 -> 2' "good upgrade"
expect "$("$S" call faulty count)" 8 "count after the good upgrade"
