# t-upgrade-command.sh: `smsup upgrade NAME=PATH` (with its report), a
# downgrade that v1 accepts, and -f to reload the same version.
. "$(dirname "$0")/lib.sh"

use examples/counter-v1 counter
use examples/counter-v2 counter2
start counter
"$S" call counter incr >/dev/null
"$S" call counter incr >/dev/null
"$S" call counter incr >/dev/null
out=$("$S" upgrade counter=counter2)
d='[0-9.]+(ns|us|ms|s)'
expect_match "$out" "^counter: upgraded 1 -> 2 \\(pid [0-9]+\\): pause $d \\(spawn $d, drain $d, serialize $d, migrate $d, commit $d\\), 0 inputs held, state [0-9]+ bytes, total $d\$" report
expect "$("$S" call counter count)" 3 "count after upgrade"
expect "$(col counter 2)" 2 version
"$S" call counter incr >/dev/null

# Down again: v1 migrates from "2", keeping the second counter.
out=$("$S" upgrade counter="$T/counter")
expect_match "$out" 'upgraded 2 -> 1' downgrade
expect "$("$S" call counter count)" 4 "count after downgrade"

# -f reloads the same version through its own load path.
pid=$(col counter 3)
out=$("$S" upgrade -f counter)
expect_match "$out" 'upgraded 1 -> 1' forced
[ "$(col counter 3)" != "$pid" ] || fail "forced upgrade kept the pid"
expect "$("$S" call counter count)" 4 "count after forced reload"
expect "$(col counter 8)" 3 upgrades
