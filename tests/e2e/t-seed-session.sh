# t-seed-session.sh: the counter session of the seeds, line by line:
# v1 counts to 2, the binary is replaced, SIGHUP, v2 goes on from {2, 2}.
. "$(dirname "$0")/lib.sh"

use examples/counter-v1 counter
start counter
expect "$("$S" call counter incr)" ok "incr"
expect "$("$S" call counter incr)" ok "incr"
expect "$("$S" call counter count)" 2 "count before upgrade"
expect "$(col counter 2)" 1 "version before"

use examples/counter-v2 counter
kill -HUP "$SUP"
for _ in $(seq 100); do
	[ "$(col counter 2)" = 2 ] && break
	sleep 0.05
done
expect "$(col counter 2)" 2 "version after SIGHUP"
expect "$("$S" call counter incr)" ok "incr"
expect "$("$S" call counter incr)" ok "incr"
expect "$("$S" call counter count)" 4 "count after upgrade"

# status: the header and the counter's line as the issue shows them.
st=$("$S" status)
expect_match "$st" '^NAME +VERSION +PID +STATE +INPUTS +BUFFERED +UPTIME +UPGRADES +LAST PAUSE$' header
expect "$(col counter 1)" counter name
expect "$(col counter 4)" running state
expect "$(col counter 5)" 6 inputs
expect "$(col counter 6)" 0 buffered
expect "$(col counter 8)" 1 upgrades
expect_match "$(col counter 9)" '^[0-9.]+(ns|us|ms|s)$' "last pause"
pid=$(col counter 3)
kill -0 "$pid" || fail "status pid $pid is not alive"

# Another SIGHUP with the same binary changes nothing.
kill -HUP "$SUP"
sleep 0.3
expect "$(col counter 8)" 1 "upgrades after a no-op SIGHUP"
expect "$(col counter 3)" "$pid" "pid after a no-op SIGHUP"
expect "$("$S" upgrade counter)" "counter: already at version 2" "upgrade to the same version"

"$S" shutdown
wait "$SUP" || fail "supervisor exit status"
SUP=
grep -q 'upgraded 1 -> 2' "$T/log" || fail "no upgrade line in the log"
