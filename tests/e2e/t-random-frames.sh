# t-random-frames.sh: 10,000 random and mutated frames to a live supervisor
# over its socket (requests of every type, truncated, oversized, wrong
# versions, garbage); it answers or drops each sender, logs why, and keeps
# serving: a machine nobody else touched counts exactly, concurrent calls
# all succeed. (Frames that mutate into SHUTDOWN, STOP, RESTART or UPGRADE
# are valid requests, not attacks: they are left out, and so is a batch in
# which one could start anywhere: a CI run met a SHUTDOWN made of the rest
# of a frame whose length was cut.)
. "$(dirname "$0")/lib.sh"

use examples/counter-v1 counter
use examples/counter-v1 probe
start counter probe
for _ in $(seq 5); do "$S" call probe incr >/dev/null; done

python3 - "$SMSUP_SOCKET" 10000 >"$T/fuzz.out" 2>&1 <<'PY' &
import os, random, socket, struct, sys
path, total = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
def s(b): return struct.pack('<I', len(b)) + b
def frame(t, p, v=1, i=1): return struct.pack('<IBBHQ', len(p), v, t, 0, i) + p
seeds = [
    frame(0x40, s(b'counter') + s(b'incr')),
    frame(0x41, s(b'counter') + s(b'count')),
    frame(0x42, struct.pack('<I', 1) + s(b'counter') + struct.pack('<I', 1)),
    frame(0x43, s(b'x') + s(b'/nonexistent') + struct.pack('<IIIQIIIIII', 0x1ff, 1, 1, 1, 1, 1, 1, 1, 1, 1)),
    frame(0x47, s(b'counter')),
    frame(0x49, s(b'counter')),
    frame(0x4a, s(b'counter') + struct.pack('<I', 1)),
]
banned = {0x44, 0x45, 0x46, 0x48}
def mutate(b):
    b = bytearray(b)
    for _ in range(rnd.randint(1, 4)):
        k = rnd.randrange(5)
        if k == 0 and b: b[rnd.randrange(len(b))] = rnd.randrange(256)
        elif k == 1 and len(b) > 1: del b[rnd.randrange(len(b)):]
        elif k == 2: b[rnd.randrange(len(b) + 1):0] = os.urandom(rnd.randint(1, 32))
        elif k == 3 and len(b) >= 4: b[0:4] = struct.pack('<I', rnd.choice([0, 1, 15, 1 << 24, (1 << 32) - 1, rnd.randrange(1 << 32)]))
        elif k == 4 and len(b) >= 6: b[4] = rnd.choice([0, 2, 255])
    return bytes(b)
sent = 0
while sent < total:
    batch = []
    for _ in range(10):
        r = rnd.random()
        if r < 0.2: f = os.urandom(rnd.randint(0, 64))
        elif r < 0.3: f = frame(rnd.randrange(256), os.urandom(rnd.randint(0, 40)))
        else: f = mutate(rnd.choice(seeds))
        if len(f) >= 6 and f[5] in banned: continue
        batch.append(f)
    # A frame whose length is cut makes the rest of the batch frames of
    # their own: none of them may read as a banned request either.
    data = b''.join(batch)
    if any(data[i + 4] == 1 and data[i + 5] in banned
           for i in range(len(data) - 5)):
        continue
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    c.settimeout(0.5)
    try:
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536): pass
    except (OSError, socket.timeout):
        pass
    c.close()
    sent += len(batch)
print(sent)
PY
FUZZ=$!
# Real clients meanwhile.
for i in $(seq 50); do
	expect "$("$S" call probe incr)" ok "call $i during the garbage"
done
wait $FUZZ || fail "the sender failed: $(cat "$T/fuzz.out")"
[ "$(cat "$T/fuzz.out")" -ge 10000 ] || fail "sent only $(cat "$T/fuzz.out")"
kill -0 "$SUP" || fail "the supervisor died"
expect "$("$S" call probe count)" 55 "probe counted exactly"
expect_match "$("$S" call counter count)" '^[0-9]+$' "counter serves"
expect "$(col counter 4)" running "counter state"
grep -q 'dropped' "$T/log" || fail "no bad frame was logged"

# A worker is not trusted either: garbage or a flood on its channel is a
# crash (the input gets an error, the machine restarts from its state;
# garbage caught after the worker left the input it came with costs a
# careful replay to find it: two restarts, or one).
use tests/faulty-v1 faulty
"$S" run faulty >/dev/null
"$S" call faulty incr >/dev/null
pid=$(col faulty 3)
status_of 1 "$S" call faulty garbage
wait_state faulty running
[ "$(col faulty 3)" != "$pid" ] || fail "worker not replaced after garbage"
expect_match "$(cat "$T/log")" 'faulty: worker \(pid [0-9]+\) broke the protocol: protocol version mismatch.*restart 1' "garbage is a crash"
pid=$(col faulty 3)
status_of 1 "$S" call faulty flood
wait_state faulty running
[ "$(col faulty 3)" != "$pid" ] || fail "worker not replaced after a flood"
expect_match "$(cat "$T/log")" 'faulty: worker \(pid [0-9]+\) broke the protocol: answered input #1099511627776 out of order.*restart [23]' "a flood is a crash"
expect "$("$S" call faulty count)" 1 "state kept through both"
