# t-matrix-client-gone.sh: clients that disconnect while their inputs are
# held during an upgrade: every input they sent is still applied, once.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
use tests/faulty-v2 faulty2
start faulty
"$S" call faulty arm hang >/dev/null
"$S" upgrade -t 1 faulty=faulty2 >/dev/null 2>&1 &
up=$!
sleep 0.3
expect "$(col faulty 4)" migrating "state during the pause"
# Ten clients send an input each and go away without their answers.
pids=
for _ in $(seq 10); do
	timeout 0.2 "$S" call faulty incr >/dev/null 2>&1 &
	pids="$pids $!"
done
# One client streams 500 and is killed with its inputs held.
seq 500 | sed 's/.*/incr/' | timeout 0.3 "$S" call -l faulty >/dev/null 2>&1 || true
for p in $pids; do wait "$p" || true; done
wait $up 2>/dev/null || true
expect "$(col faulty 6)" 0 "nothing held after the rollback"
expect_count faulty 510
