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
	awk -v c=$c -v n=$N 'BEGIN {
		for (i = 1; i <= n; i++) {
			print c, i
			if (i % 500 == 0) { fflush(); system("sleep 0.02") }
		}
	}' | "$S" call -l orderly >"$T/client$c.out" 2>"$T/client$c.err" &
	eval "client$c=\$!"
done

ups=0 v=1
while kill -0 "$client0" 2>/dev/null || kill -0 "$client1" 2>/dev/null ||
    kill -0 "$client2" 2>/dev/null || kill -0 "$client3" 2>/dev/null; do
	v=$((v % 5 + 1))
	"$S" upgrade orderly="$T/orderly-v$v" >>"$T/upgrades" ||
		fail "upgrade to v$v failed: $(tail -1 "$T/upgrades")"
	ups=$((ups + 1))
done
for c in 0 1 2 3; do
	eval "wait \$client$c" || fail "client $c: $(cat "$T/client$c.err")"
	expect "$(grep -c '^ok$' "$T/client$c.out")" $N "client $c answers"
	expect "$(wc -l <"$T/client$c.out")" $N "client $c lines"
done
[ "$ups" -ge 3 ] || fail "only $ups upgrades ran during the load"
echo "$ups upgrades during the load"

check=$("$S" call orderly check)
expect "$check" "total=$((4 * N)) violations=0 generation=$ups last=$N,$N,$N,$N" check
expect "$(col orderly 8)" "$ups" "upgrades in status"
expect "$(col orderly 6)" 0 "nothing left buffered"
