# t-matrix-sighup-storm.sh: 100 SIGHUPs within a second, and upgrades
# asked for while one runs: one upgrade at a time per machine; requests
# during one are coalesced into one follow-up, never dropped; `upgrade`
# says "upgrade in progress", or waits with -w. Under load.
. "$(dirname "$0")/lib.sh"

for v in 1 2 3; do use tests/orderly-v$v orderly-v$v; done
cp "$T/orderly-v1" "$T/orderly"
start --upgrade-timeout 1 orderly
awk 'BEGIN { for (i = 1; i <= 20000; i++) { print 0, i; if (i % 200 == 0) { fflush(); system("sleep 0.01") } } }' |
	"$S" call -l orderly >"$T/load.out" 2>"$T/load.err" &
load=$!

# The first SIGHUP meets a migration that hangs; the storm comes while it
# hangs, and so does the input that disarms the fault (held, then given
# to the old worker when the upgrade is rolled back).
"$S" call orderly arm hang >/dev/null
cp "$T/orderly-v2" "$T/orderly.new" && mv "$T/orderly.new" "$T/orderly"
kill -HUP "$SUP"
sleep 0.2
expect "$(col orderly 4)" migrating "state during the hang"
"$S" send orderly arm none
for _ in $(seq 99); do
	kill -HUP "$SUP"
	sleep 0.005
done
# Rolled back after 1s, then the one follow-up upgrades for real.
for _ in $(seq 100); do
	[ "$(col orderly 2)" = 2 ] && [ "$(col orderly 4)" = running ] && break
	sleep 0.05
done
expect "$(col orderly 2)" 2 "version after the storm"
expect "$(col orderly 8)" 1 "upgrades after the storm"
grep -q 'another one will follow it' "$T/log" || fail "no coalescing logged"
# At least one follow-up (more if the storm outlasted the hang: those
# find the version already there).
[ "$(grep -c 'starting the upgrade requested meanwhile' "$T/log")" -ge 1 ] ||
	fail "no follow-up upgrade"

# Two explicit upgrades at once: the second is told; with -w it waits.
"$S" call orderly arm hang >/dev/null
"$S" upgrade orderly="$T/orderly-v3" >"$T/a.out" 2>&1 &
a=$!
sleep 0.2
status_of 1 "$S" upgrade orderly="$T/orderly-v1"
expect_match "$(cat "$T/err")" 'orderly: upgrade in progress' "second upgrade"
"$S" send orderly arm none
out=$("$S" upgrade -w orderly="$T/orderly-v3")
wait $a && fail "the hanging upgrade succeeded"
expect_match "$(cat "$T/a.out")" 'timed out' "first upgrade"
expect_match "$out" 'upgraded 2 -> 3' "the waiting upgrade ran after it"

wait "$load" || fail "load: $(head -3 "$T/load.err")"
expect "$(grep -c '^ok$' "$T/load.out")" 20000 "load answers"
expect_match "$("$S" call orderly check)" '^total=20000 violations=0 generation=2 ' check
