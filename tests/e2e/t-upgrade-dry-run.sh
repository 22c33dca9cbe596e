# t-upgrade-dry-run.sh (issue 13): `smsup upgrade --dry-run` rehearses an
# upgrade on the live state: the new binary, beside the running worker,
# migrates the machine's last snapshot (asked for when it has none of its
# running version) and is given the inputs since (at most 10,000); it
# prints the counts and the state it would have as JSON, exits 0 only if
# the migration worked and nothing crashed. The running machine is never
# paused or changed: checked against a model (per-client sequence numbers,
# four clients) while rehearsals run, and the real upgrade then gives the
# rehearsed state.
. "$(dirname "$0")/lib.sh"

N=4000
use tests/orderly-v1 orderly
use tests/orderly-v2 orderly-v2
use tests/faulty-v1 faulty
use tests/faulty-v2 faulty-v2
use tests/faulty-v3 faulty-v3
use examples/employee-v1 employee
use examples/employee-v2 employee-v2

# Four clients while rehearsals run, none of which touches the machine.
# (The default policy may not have snapshotted yet when a rehearsal comes:
# more than 10,000 inputs since the last one are capped, as tested below.)
start orderly
pid=$(col orderly 3)
for c in 0 1 2 3; do
	orderly_client $c $N 500 0.02
done
for i in 1 2 3 4 5; do
	"$S" upgrade --dry-run orderly=./orderly-v2 >"$T/dry$i" ||
		fail "rehearsal $i: $(cat "$T/dry$i")"
	expect_match "$(head -1 "$T/dry$i")" '^orderly: rehearsed 1 -> 2 on its last snapshot \(#[0-9]+\) and the [0-9]+ inputs since: [0-9]+ replayed, 0 answered with an error( \([0-9]+ more not replayed: at most 10000 are\))?$' "rehearsal $i"
	expect_match "$(tail -1 "$T/dry$i")" '^\{"0":[0-9]+,"1":0,"2":1,' "rehearsal $i: the migrated state (violations 0, generation 1)"
done
for c in 0 1 2 3; do
	eval "wait \$pid$c" || fail "client $c: $(head -3 "$T/c$c.err")"
	expect "$(grep -c '^ok' "$T/c$c.out")" $N "client $c answers"
done
expect "$("$S" call orderly check)" "total=$((4 * N)) violations=0 generation=0 last=$N,$N,$N,$N" "the machine after the rehearsals"
expect "$(col orderly 2)" 1 "version"
expect "$(col orderly 3)" "$pid" "the same worker"
expect "$(col orderly 8)" 0 "upgrades"
expect_match "$("$S" status orderly)" 'LAST PAUSE' "status"
expect "$("$S" status orderly | awk 'NR == 2 { print $9 }')" - "no pause"

# DemoServer: the rehearsed state is the upgrade's.
start_more() { "$S" run "$@" >/dev/null || fail "run $*"; }
start_more --snapshot-inputs 0 --snapshot-interval 0 \
    --init-arg "blackode 30000" blackode=./employee
"$S" call blackode add 30000 >/dev/null
"$S" call blackode add x >/dev/null 2>&1 || true
"$S" call blackode add 5 >/dev/null
out=$("$S" upgrade --dry-run --extra "bonus 100" blackode=./employee-v2) ||
	fail "dry run: $out"
expect "$(printf '%s\n' "$out" | head -1)" "blackode: rehearsed 1 -> 2 on its last snapshot (#3) and the 0 inputs since: 0 replayed, 0 answered with an error" "asked a snapshot"
expect "$(printf '%s\n' "$out" | tail -1)" '{"name":"blackode","salary":60105}' "the rehearsed state"
"$S" call blackode add 1 >/dev/null
"$S" call blackode add y >/dev/null 2>&1 || true
out=$("$S" upgrade -n --extra "bonus 100" blackode=./employee-v2) || fail "dry run 2: $out"
expect "$(printf '%s\n' "$out" | head -1)" "blackode: rehearsed 1 -> 2 on its last snapshot (#3) and the 2 inputs since: 2 replayed, 1 answered with an error" "inputs since the snapshot"
dry=$(printf '%s\n' "$out" | tail -1)
expect "$dry" '{"name":"blackode","salary":60106}' "the state after the replay"
expect "$("$S" state blackode)" '{"name":"blackode","money":60006}' "the running machine untouched"
# A migrate that refuses: exit 1, the reason, nothing changed.
status_of 1 "$S" upgrade --dry-run --extra nonsense blackode=./employee-v2
expect_match "$(cat "$T/err")" "blackode: rehearsal of .*employee-v2 failed: migration from 1 failed: --extra: expected \"bonus N\", got 'nonsense'; nothing was changed" "a failing migrate"
"$S" upgrade --extra "bonus 100" blackode=./employee-v2 >/dev/null || fail "the real upgrade"
expect "$("$S" state blackode)" "$dry" "the upgrade gives the rehearsed state"

# A new version that crashes on a replayed input: which one, exit 1.
start_more --snapshot-inputs 0 --snapshot-interval 0 faulty=./faulty
"$S" call faulty incr >/dev/null
"$S" call faulty "arm crashlater" >/dev/null
"$S" upgrade -n faulty=./faulty-v2 >/dev/null || fail "rehearsal that takes a snapshot"
for i in 1 2 3 4 5; do "$S" call faulty incr >/dev/null; done
status_of 1 "$S" upgrade --dry-run faulty=./faulty-v2
expect_match "$(cat "$T/out")" '^faulty: rehearsed 1 -> 2 on its last snapshot \(#2\) and the 5 inputs since: 2 replayed, 0 answered with an error; then it crashed on input #5 \(incr\): .*killed by signal 6' "the input it crashed on"
expect_count faulty 6
expect "$(col faulty 8)" 0 "faulty upgrades"
# Binaries that cannot: refused with the reason.
status_of 1 "$S" upgrade --dry-run faulty=./faulty-v3
expect_match "$(cat "$T/err")" "version 3 does not migrate from 1 \(it accepts: 2\); nothing was changed" "a version that does not migrate"
status_of 1 "$S" upgrade --dry-run faulty=./employee-v2
expect_match "$(cat "$T/err")" "is machine employee, not faulty" "another machine"
status_of 1 "$S" upgrade --dry-run faulty="$T/missing"
# A binary that forks and never says hello: its whole session goes.
printf '#!/bin/sh\nsleep 98765\n' >"$T/hangbin"
chmod +x "$T/hangbin"
status_of 1 "$S" upgrade --dry-run -t 0.5 faulty="$T/hangbin"
expect_match "$(cat "$T/err")" "timed out waiting to say hello; nothing was changed" "a binary that hangs"
sleep 0.2
pgrep -fx "sleep 98765" >/dev/null && fail "the hung binary's child outlived the rehearsal"
status_of 1 "$S" upgrade --dry-run nosuch=./faulty-v2
expect_match "$(cat "$T/err")" "no such machine" "an unknown machine"
status_of 2 "$S" upgrade --dry-run faulty=./faulty-v2 orderly=./orderly-v2
expect_count faulty 6

# More than 10,000 inputs since the snapshot: the first 10,000 replayed.
# (The upgrade's image of version 1 is its base: a rehearsal first takes
# a snapshot of version 2.)
"$S" upgrade --dry-run blackode=./employee-v2 >"$T/out" || fail "a rehearsal at the same version"
expect_match "$(head -1 "$T/out")" "rehearsed 2 -> 2 on its last snapshot \(#5\) and the 0 inputs since" "the same version"
awk 'BEGIN { for (i = 0; i < 10050; i++) print "add 1" }' |
	"$S" send -l blackode >/dev/null || fail "send -l"
status_of 0 "$S" upgrade --dry-run blackode=./employee-v2
expect_match "$(head -1 "$T/out")" "on its last snapshot \(#5\) and the 10050 inputs since: 10000 replayed, 0 answered with an error \(50 more not replayed: at most 10000 are\)" "the cap"
expect "$(tail -1 "$T/out")" '{"name":"blackode","salary":70106}' "the state after 10,000"
