# t-backpressure.sh: memory stays bounded and nobody else waits: during an
# upgrade that holds inputs for 3 s, one client floods a machine with
# 400,000 sends and another pipelines calls without ever reading its
# answers. The supervisor stops reading from both (they block) instead of
# buffering; its peak RSS stays under 64 MiB; a third client's calls to
# another machine keep their latency; nothing is lost.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
use tests/faulty-v2 faulty2
use examples/counter-v1 counter
use examples/counter-v1 sink
start --upgrade-timeout 3 faulty counter sink
"$S" call faulty arm hang >/dev/null

N=400000
for _ in $(seq $N); do echo incr; done >"$T/flood"
"$S" upgrade faulty=faulty2 >/dev/null 2>&1 &
UP=$!
sleep 0.3
"$S" send -l faulty <"$T/flood" >"$T/flood.out" 2>&1 &
FLOOD=$!
# The stalled client: pipelines calls, never reads an answer.
python3 - "$SMSUP_SOCKET" >"$T/stalled.out" 2>&1 <<'PY' &
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
p = struct.pack('<I', 4) + b'sink' + struct.pack('<I', 4) + b'incr'
frame = struct.pack('<IBBHQ', len(p), 1, 0x40, 0, 1) + p
s.setblocking(False)
sent = 0
batch = frame * 1000
deadline = time.time() + 6
while time.time() < deadline:
    try:
        sent += s.send(batch)
    except BlockingIOError:
        time.sleep(0.05)
print(sent // len(frame), flush=True)
time.sleep(30)
PY
STALL=$!

# Meanwhile: another client's calls to another machine.
worst=0
for _ in $(seq 20); do
	t0=$(date +%s%N)
	expect "$("$S" call counter incr)" ok "call during the flood"
	t=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ $t -gt $worst ] && worst=$t
	sleep 0.1
done
[ "$worst" -lt 1000 ] || fail "a call took ${worst} ms during the flood"
held=$(col faulty 6)
wait $UP || true
wait $FLOOD || fail "flooding client: $(tail -n 3 "$T/flood.out")"
for _ in $(seq 100); do [ -s "$T/stalled.out" ] && break; sleep 0.1; done
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$SUP/status")
echo "backpressure: worst call ${worst} ms, ${held} inputs held at once, peak RSS ${hwm} KiB, stalled client got $(cat "$T/stalled.out") calls in" >&2
[ -n "$SANITIZED" ] || [ "$hwm" -lt 65536 ] || fail "peak RSS ${hwm} KiB"
[ "$held" -le 80000 ] || fail "$held inputs held: the flood was not stopped"
expect "$("$S" call faulty count)" $N "every send applied once"
expect "$("$S" call counter count)" 20 "the other client's calls"
# The stalled client cannot hurt anyone; once it goes, the rest is applied.
kill $STALL
wait $STALL 2>/dev/null || true
expect_match "$("$S" call sink count)" '^[0-9]+$' "sink still serves"
