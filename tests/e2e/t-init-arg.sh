# t-init-arg.sh (issue 13): one binary started for two employees with
# their own init arguments (Elixir's DemoServer.start_link(employee)); the
# argument is the machine's: saved with it before any input, so a restart
# and a supervisor SIGKILL replay the journal onto the same init, while a
# later --init-arg (or smsup.conf's) does not change a machine that has
# saved state, and --fresh does; a binary built before init arguments is
# refused with the reason. `upgrade --extra` hands its text to migrate
# (Erlang's code_change Extra): taken, refused by migrate (rolled back), or
# refused before the pause by a binary that cannot take it.
. "$(dirname "$0")/lib.sh"

use examples/employee-v1 employee
use examples/employee-v2 employee-v2
printf '#!/bin/sh\nSMSUP_INLINE_IMAGES=1 exec %s "$@"\n' "$T/employee" >"$T/old"
printf '#!/bin/sh\nSMSUP_INLINE_IMAGES=1 exec %s "$@"\n' "$T/employee-v2" >"$T/old-v2"
chmod +x "$T/old" "$T/old-v2"

# Two employees, one binary; no snapshot, so that the journal is all.
start --snapshot-inputs 0 --snapshot-interval 0 --init-arg "blackode 30000" \
    blackode=./employee
"$S" run --snapshot-inputs 0 --snapshot-interval 0 --init-arg "alice 1000" \
    alice=./employee >/dev/null || fail "run alice"
expect "$("$S" call blackode add 30000)" "30000 added to blackode " "blackode"
expect "$("$S" call alice add 5)" "5 added to alice " "alice"
expect "$("$S" state blackode)" '{"name":"blackode","money":60000}' "blackode's state"
expect "$("$S" state alice)" '{"name":"alice","money":1005}' "alice's state"
expect_match "$("$S" status alice)" '  init arg    "alice 1000"' "status NAME"
expect "$("$S" status --json blackode | python3 -c 'import json, sys; print(json.load(sys.stdin)["machines"][0]["init_arg"])')" "blackode 30000" "status --json"
# Arguments matched in one call, errors that say what was wrong.
status_of 1 "$S" call alice add x
expect_match "$(cat "$T/err")" "add: expected an integer, got 'x'; usage: add INTEGER" "a bad argument"
status_of 1 "$S" call alice add 1 2
expect_match "$(cat "$T/err")" "add: too many arguments; usage: add INTEGER" "one argument too many"

# A worker killed: init with the argument again, then the journal.
pid=$(col alice 3)
kill -KILL "$pid"
gone "$pid"
expect "$("$S" call alice add 1)" "1 added to alice " "after a worker SIGKILL"
expect "$("$S" state alice)" '{"name":"alice","money":1006}' "alice's state after a restart"

# The supervisor killed, started again without --init-arg, and with
# another: the saved one stays, and the journal replays onto it.
kill -KILL "$SUP"
gone "$SUP"
pkill -KILL -f "$T/employee" 2>/dev/null || true
start --init-arg "mallory 0" blackode=./employee alice=./employee
expect "$("$S" state alice)" '{"name":"alice","money":1006}' "alice after a supervisor SIGKILL"
expect "$("$S" state blackode)" '{"name":"blackode","money":60000}' "blackode after a supervisor SIGKILL"
expect_match "$("$S" status alice)" '  init arg    "alice 1000"' "the saved init arg"
grep -q 'alice: --init-arg not used: the machine resumes from its saved state' "$T/log" ||
	fail "an init arg that is not used is not logged"

# --fresh: a new start, with the new argument.
"$S" stop alice >/dev/null
"$S" run --fresh --init-arg "alice 7" alice=./employee >/dev/null || fail "run --fresh"
expect "$("$S" state alice)" '{"name":"alice","money":7}' "alice afresh"

# No argument where init wants one: its own words, and nothing else runs.
status_of 1 "$S" run --max-restarts 0/1 carol=./employee
expect_match "$(cat "$T/err")" 'start it with --init-arg' "init without its argument"
"$S" stop carol >/dev/null 2>&1 || true
# A binary that cannot take an argument.
status_of 1 "$S" run --max-restarts 0/1 --init-arg "dave 1" dave=./old
expect_match "$(cat "$T/err")" "built before init arguments" "a binary built before"
"$S" stop dave >/dev/null 2>&1 || true

# Upgrades: --extra to migrate.
expect "$("$S" upgrade --extra "bonus 100" blackode=./employee-v2 | sed 's/ (pid.*//')" "blackode: upgraded 1 -> 2" "upgrade --extra"
expect "$("$S" call blackode add 100000)" '{"name":"blackode","salary":160100}' "the new version's JSON reply"
status_of 1 "$S" upgrade --extra nonsense alice=./employee-v2
expect_match "$(cat "$T/err")" "migration from 1 failed: --extra: expected \"bonus N\", got 'nonsense'; version 1 keeps serving" "a migrate that refuses the extra"
expect "$("$S" call alice add 1)" "1 added to alice " "alice after the rollback"
status_of 1 "$S" upgrade --extra "bonus 1" alice=./old-v2
expect_match "$(cat "$T/err")" "built before --extra" "a binary that cannot take --extra"
expect "$("$S" upgrade alice=./employee-v2 | sed 's/ (pid.*//')" "alice: upgraded 1 -> 2" "upgrade without --extra"
expect "$("$S" state alice)" '{"name":"alice","salary":8}' "alice migrated"

# Offline: --sm-migrate --extra.
"$S" state --raw blackode >"$T/b2.img"
"$T/employee" --sm-migrate <"$T/b2.img" >/dev/null 2>&1 &&
	fail "v1 migrated a v2 image it does not accept"
"$S" stop blackode >/dev/null
"$S" run --fresh --init-arg "eve 10" eve=./employee >/dev/null
"$S" state --raw eve >"$T/e1.img"
"$T/employee-v2" --sm-migrate --extra "bonus 5" <"$T/e1.img" >"$T/e2.img" ||
	fail "--sm-migrate --extra"
"$T/employee-v2" --sm-migrate --extra "bonus x" <"$T/e1.img" >/dev/null 2>"$T/err" &&
	fail "--sm-migrate with a bad --extra"
expect_match "$(cat "$T/err")" "expected \"bonus N\"" "offline migrate's error"

# smsup.conf: init-arg in a machine block.
"$S" shutdown >/dev/null
wait "$SUP" || true
SUP=
cat >"$T/smsup.conf" <<CONF
machine frank {
	path employee
	init-arg "frank 42"
}
CONF
start -c "$T/smsup.conf"
expect "$("$S" call frank add 1)" "1 added to frank " "init-arg from smsup.conf"
expect "$("$S" state frank)" '{"name":"frank","money":43}' "frank's state"
