# t-chain-and-group.sh: version chains (v3 migrates from 1 and from 2, by
# the exact running version), downgrades, and upgrade groups that commit
# all together or roll back all together.
. "$(dirname "$0")/lib.sh"

for v in 1 2 3; do use examples/counter-v$v counter-v$v; done
use tests/faulty-v1 faulty
use tests/faulty-v2 faulty2
start a="$T/counter-v1" b="$T/counter-v1" faulty

# Chain: a goes 1 -> 3 directly, b goes 1 -> 2 -> 3.
for _ in 1 2 3; do "$S" call a incr >/dev/null; "$S" call b incr >/dev/null; done
"$S" upgrade a="$T/counter-v3" >/dev/null
expect "$("$S" call a state)" "{3,3,0}" "a: 1 -> 3"
"$S" upgrade b="$T/counter-v2" >/dev/null
"$S" call b incr >/dev/null
"$S" upgrade b="$T/counter-v3" >/dev/null
expect "$("$S" call b state)" "{3,4,0}" "b: 1 -> 2 -> 3 keeps old from v2"
# v1 does not migrate from 3: refused, listing what it accepts.
status_of 1 "$S" upgrade a="$T/counter-v1"
expect_match "$(cat "$T/err")" 'version 1 does not migrate from 3 \(it accepts: 2\)' "no 3 -> 1"

# Group: a and b down to 2... v2 does not migrate from 3 either: the
# group is refused as a whole and both keep serving version 3.
status_of 1 "$S" upgrade a="$T/counter-v2" b="$T/counter-v2"
expect "$(col a 2) $(col b 2)" "3 3" "versions after a refused group"

# A group with faulty: a's and faulty's upgrades all fail when faulty's
# migration fails; then all commit.
"$S" upgrade a="$T/counter-v1" 2>/dev/null || true
"$S" stop a >/dev/null
# Its saved state is version 3, which v1 cannot take: refused, clearly.
status_of 1 "$S" run a="$T/counter-v1"
expect_match "$(cat "$T/err")" 'its saved state is version 3, and version 1 does not migrate from it \(it accepts: 2; start afresh with: smsup run --fresh a\)' "refused saved state"
"$S" stop a >/dev/null
"$S" run --fresh a="$T/counter-v1" >/dev/null
"$S" call a incr >/dev/null
"$S" call faulty arm fail >/dev/null
load_start faulty 2000
status_of 1 "$S" upgrade a="$T/counter-v2" faulty=faulty2
expect "$(grep -c 'upgrade failed' "$T/err")" 2 "both members report the failure"
expect "$(col a 2) $(col faulty 2)" "1 1" "versions after a failed group"
expect "$("$S" call a count)" 1 "a's count after the rollback"
"$S" call faulty arm none >/dev/null
out=$("$S" upgrade a="$T/counter-v2" faulty=faulty2)
expect "$(echo "$out" | grep -c 'upgraded 1 -> 2')" 2 "both members upgraded"
expect "$(col a 2) $(col faulty 2)" "2 2" "versions after the group"
load_wait
expect_count faulty 2000
expect "$("$S" call a count)" 1 "a's count after the group"

# Downgrade: counter v1 migrates from "2".
expect_match "$("$S" upgrade a="$T/counter-v1")" 'upgraded 2 -> 1' downgrade
expect "$("$S" call a count)" 1 "a's count after the downgrade"
# a was stopped and run again above: its history starts there.
expect "$("$S" history a | wc -l)" 3 "a's history"
expect_match "$("$S" status a)" 'upgrades    [0-9]+, last at [0-9: -]+ ok: a: upgraded 2 -> 1' "status NAME shows the last upgrade"
