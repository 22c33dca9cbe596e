# t-concurrent-upgrades.sh: 4 clients send 20,000 inputs each while the
# machine is upgraded again and again (v1 -> v2 -> ... -> v5 -> v1 ...).
# Every input must be applied exactly once and in its client's order, and
# every call answered.
. "$(dirname "$0")/lib.sh"

N=20000
for v in 1 2 3 4 5; do
	use tests/orderly-v$v orderly-v$v
done
start orderly="$T/orderly-v1"

# Each client paces itself (a pause every 500 lines) so that the upgrades
# land in the middle of its stream.
for c in 0 1 2 3; do
	orderly_client $c $N 500 0.02
done

ups=0 v=1
while kill -0 "$pid0" 2>/dev/null || kill -0 "$pid1" 2>/dev/null ||
    kill -0 "$pid2" 2>/dev/null || kill -0 "$pid3" 2>/dev/null; do
	v=$((v % 5 + 1))
	"$S" upgrade orderly="$T/orderly-v$v" >>"$T/upgrades" ||
		fail "upgrade to v$v failed: $(tail -1 "$T/upgrades")"
	ups=$((ups + 1))
done
for c in 0 1 2 3; do
	eval "wait \$pid$c" || fail "client $c: $(cat "$T/c$c.err")"
	expect "$(grep -c '^ok$' "$T/c$c.out")" $N "client $c answers"
	expect "$(wc -l <"$T/c$c.out")" $N "client $c lines"
done
[ "$ups" -ge 3 ] || fail "only $ups upgrades ran during the load"
echo "$ups upgrades during the load"

check=$("$S" call orderly check)
expect "$check" "total=$((4 * N)) violations=0 generation=$ups last=$N,$N,$N,$N" check
expect "$(col orderly 8)" "$ups" "upgrades in status"
expect "$(col orderly 6)" 0 "nothing left buffered"
