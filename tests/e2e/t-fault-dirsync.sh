# t-fault-dirsync.sh: a snapshot whose files are renamed in but whose
# directory will not sync (EIO, from a shim): the store must not go on
# appending to the journal of the epoch before, which a restart no longer
# reads; it is degraded until a new pair is written from memory. A
# SIGKILL after that loses no acknowledged input, with batch as with
# always. (Found by make chaos: a descriptor limit made the directory's
# open for its fsync fail, and 18 acknowledged sends were gone.)
. "$(dirname "$0")/lib.sh"

use tests/ledger-v1 a
use tests/ledger-v1 b
export SMSUP_TEST_FAIL_DIRSYNC="$T/flag"
export LD_PRELOAD="$B/tests/dirsync.so"
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
start --durability batch --snapshot-inputs 100 a
"$S" run --durability always --snapshot-inputs 100 b >/dev/null

# send_range M FROM TO: send "1 FROM" .. "1 TO"; refused numbers go to
# $T/M.refused.
send_range() {
	seq "$2" "$3" | sed 's/^/1 /' | "$S" send -l "$1" >/dev/null 2>"$T/$1.err" || true
	sed -n 's/^smsup: line \([0-9]*\): .*/\1/p' "$T/$1.err" |
		awk -v b="$2" '{ print $1 + b - 1 }' >>"$T/$1.refused"
	if grep -v '^smsup: line ' "$T/$1.err" | grep -q .; then
		fail "$1: $(cat "$T/$1.err")"
	fi
}

for m in a b; do : >"$T/$m.refused"; send_range $m 1 150; done
sleep 1.1	# a snapshot goes to disk at most once a second
touch "$T/flag"
for m in a b; do send_range $m 151 300; done
# More inputs until a snapshot is tried (one by fork may have gone to
# disk late, and the next one then waits its second).
for m in a b; do
	top=300
	for _ in $(seq 30); do
		grep -Eq "/$m: (persistence degraded|snapshot not installed)" "$T/log" && break
		send_range $m $((top + 1)) $((top + 100))
		top=$((top + 100))
		sleep 0.2
	done
	grep -Eq "/$m: (persistence degraded|snapshot not installed)" "$T/log" ||
		fail "$m: no snapshot tried while the directory would not sync"
	send_range $m $((top + 1)) $((top + 40))
	eval "top_$m=$((top + 40))"
done
rm "$T/flag"
for _ in $(seq 100); do
	"$S" status a b | grep -q 'persistence degraded' || break
	sleep 0.05
done
"$S" status a b | grep -q 'persistence degraded' && fail "still degraded: $("$S" status a b)"

# Killed, and started again without the shim.
kill -KILL "$SUP"
gone "$SUP"
pkill -KILL -f "^$T/[ab]\$" || true
unset LD_PRELOAD SMSUP_TEST_FAIL_DIRSYNC
start --durability batch a
"$S" run --durability always b >/dev/null
for m in a b; do
	d=$("$S" call $m dump 1)
	last=$(echo "$d" | sed 's/^last=\([0-9]*\) .*/\1/')
	echo "$d" | sed 's/.*skipped=//' | tr , '\n' | grep . >"$T/$m.skipped" || echo 0 >"$T/$m.skipped"
	seq 1 "$last" | grep -vxF -f "$T/$m.skipped" >"$T/$m.applied" || true
	grep -q . "$T/$m.refused" || echo 0 >"$T/$m.refused"
	eval "top=\$top_$m"
	seq 1 "$top" | grep -vxF -f "$T/$m.refused" >"$T/$m.acked" || true
	diff "$T/$m.acked" "$T/$m.applied" >"$T/$m.diff" ||
		fail "$m: acknowledged and applied differ: $(head -5 "$T/$m.diff")"
	expect_match "$("$S" call $m check)" '^violations=0 ' "$m: applied once, in order"
done
grep -q '/a: persistence degraded: state directory sync: Input/output error' "$T/log" ||
	fail "a: the failed sync not said"
grep -q '/a: persistence restored' "$T/log" || fail "a: not restored"
