# t-supervise-after-upgrade.sh: a worker that crashes right after an
# upgrade restarts from the state the upgrade made, not from an older
# snapshot: the inputs before the upgrade are not replayed into the new
# version (counter v2's {old, new} would come out wrong).
. "$(dirname "$0")/lib.sh"

use examples/counter-v1 counter
use examples/counter-v3 counter3
start --snapshot-inputs 0 --snapshot-interval 0 counter
for _ in 1 2 3 4 5; do "$S" call counter incr >/dev/null; done
"$S" upgrade counter=counter3 >/dev/null
expect "$("$S" call counter state)" "{5,5,0}" "state after the upgrade"
"$S" call counter incr >/dev/null
kill -KILL "$(col counter 3)"
wait_state counter running
expect "$(col counter 2)" 3 "version after the crash"
expect "$("$S" call counter state)" "{5,6,0}" "state after the crash"
