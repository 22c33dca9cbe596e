# t-fault-memory.sh (issue 11, item 9): what the supervisor holds is
# bounded. 4 clients sending 8 MiB inputs, and a machine that never
# snapshots on its own (--snapshot-interval 0 --snapshot-inputs 0) fed
# 1 MiB inputs: the journal in memory is bounded (the worker is asked for
# snapshots), clients' large frames share a read budget, producers wait.
# The supervisor's peak resident memory stays under 256 MiB (it passed
# 1 GB before), and every input is applied once, in order.
. "$(dirname "$0")/lib.sh"

use tests/ledger-v1 ledger
use tests/ledger-v1 quiet

# big C FIRST COUNT BYTES: COUNT inputs "C N <padding>" of BYTES each.
big() {
	python3 -c "
import sys
c, first, count, size = map(int, sys.argv[1:])
pad = b'x' * size
out = sys.stdout.buffer
for n in range(first, first + count):
    head = b'%d %d ' % (c, n)
    out.write(head + pad[:size - len(head)] + b'\n')
" "$@"
}

hwm() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$SUP/status"
}

start --durability none ledger
for c in 1 2 3 4; do
	big $c 1 12 8388000 | "$S" send -l ledger >"$T/s$c.out" 2>"$T/s$c.err" &
	eval "p$c=\$!"
done
for c in 1 2 3 4; do
	eval "wait \$p$c" || fail "client $c: $(head -3 "$T/s$c.err")"
done
peak=$(hwm)
expect "$("$S" call ledger check)" "violations=0 total=48 generation=0 skipped=0" "4 x 12 inputs of 8 MiB"
"$S" shutdown
wait "$SUP"
echo "4 clients x 12 inputs of 8 MiB: supervisor peak RSS $((peak / 1024)) MiB"
[ -n "$SANITIZED" ] || [ "$peak" -lt 262144 ] || fail "peak RSS ${peak} KiB with 8 MiB inputs"

# 32 clients, each with an 8 MiB call in flight: the same bound.
start --durability none ledger
for c in $(seq 1 32); do
	big $c 1 3 8388000 | "$S" call -l ledger >"$T/m$c.out" 2>"$T/m$c.err" &
	eval "q$c=\$!"
done
for c in $(seq 1 32); do
	eval "wait \$q$c" || fail "client $c: $(head -3 "$T/m$c.err")"
done
peak3=$(hwm)
expect_match "$("$S" call ledger check)" "^violations=0 total=96 " "32 x 3 inputs of 8 MiB"
"$S" shutdown
wait "$SUP"
echo "32 clients x 3 inputs of 8 MiB: supervisor peak RSS $((peak3 / 1024)) MiB"
[ -n "$SANITIZED" ] || [ "$peak3" -lt 327680 ] || fail "peak RSS ${peak3} KiB with 32 clients"

# Never a snapshot of its own: the journal would grow without end.
start --snapshot-interval 0 --snapshot-inputs 0 quiet
big 1 1 400 1048000 | "$S" send -l quiet >"$T/q.out" 2>"$T/q.err" || fail "quiet: $(head -3 "$T/q.err")"
peak2=$(hwm)
expect "$("$S" call quiet check)" "violations=0 total=400 generation=0 skipped=0" "400 inputs of 1 MiB"
grep -q 'quiet: resuming' "$T/log" && fail "restarted"
echo "400 inputs of 1 MiB, no snapshots of its own: supervisor peak RSS $((peak2 / 1024)) MiB"
[ -n "$SANITIZED" ] || [ "$peak2" -lt 262144 ] || fail "peak RSS ${peak2} KiB with snapshots off"
