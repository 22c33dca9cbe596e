# t-big-state-fd.sh (issue 12): a 256 MiB state moves by descriptor. Its
# upgrade goes through a sealed memfd the old worker fills and the new
# one maps (the log says "by descriptor"), a restart hands the new worker
# the same descriptor, and the state is the same byte for byte each time
# (a hash of every byte); the supervisor's peak resident memory stays
# under 32 MiB while the state moves so. A worker that takes no descriptors
# (SMSUP_INLINE_IMAGES=1) is given the bytes instead. Then a snapshot by
# fork of the 256 MiB is the file a restarted worker is given, and a
# supervisor started again after a SIGKILL hands the file over by
# descriptor without reading it into its memory. `state --raw` gets the
# worker's memfd, not bytes through the supervisor.
. "$(dirname "$0")/lib.sh"

use bench/blob-v1 blob
use bench/blob-v2 blob2
printf '#!/bin/sh\nSMSUP_INLINE_IMAGES=1 exec %s "$@"\n' "$T/blob" >"$T/inline"
chmod 755 "$T/inline"
start --snapshot-interval 0 --snapshot-inputs 0 --upgrade-timeout 60 blob
expect "$("$S" call blob fill 268435456 20261202)" ok fill
h=$("$S" call blob hash)
expect_match "$h" '^268435456:[0-9a-f]{16}$' hash

hwm() {
	awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$SUP/status"
}

# Upgrade: old worker -> memfd -> new worker.
"$S" upgrade blob=blob2 >"$T/up" || fail "upgrade: $(cat "$T/up")"
expect_match "$(cat "$T/up")" 'upgraded 1 -> 2 .*state 268435508 bytes by descriptor' "upgrade by descriptor"
expect "$("$S" call blob hash)" "$h" "the state after the upgrade"

# Restart: the same memfd to the next worker.
pid=$(col blob 3)
kill -KILL "$pid"
gone "$pid"
wait_state blob running
grep -q 'blob: its state (268435508 bytes) goes to the worker by descriptor' "$T/log" ||
	fail "restart not by descriptor"
expect "$("$S" call blob hash)" "$h" "the state after a restart"

if [ -z "$SANITIZED" ]; then
	[ "$(hwm)" -lt 32 ] || fail "supervisor peak RSS $(hwm) MiB while 256 MiB moved"
fi
echo "256 MiB moved by descriptor: supervisor peak RSS $(hwm) MiB"

# And back, to a worker that takes no descriptors: the bytes (which do
# go through the supervisor's memory).
"$S" upgrade blob="$T/inline" >"$T/up" || fail "upgrade inline: $(cat "$T/up")"
expect_match "$(cat "$T/up")" 'upgraded 2 -> 1 .*state 268435508 bytes, total' "upgrade inline"
expect "$("$S" call blob hash)" "$h" "the state given inline"

# Back to the descriptor path, with snapshots by fork: a snapshot child
# writes the 256 MiB to a file, which a restarted worker is then given.
"$S" shutdown >/dev/null
gone "$SUP"
start --snapshot-interval 0.3 --snapshot-inputs 0 --upgrade-timeout 60 blob
expect "$("$S" call blob hash)" "$h" "the state after a supervisor restart"
for _ in $(seq 200); do
	"$S" status blob | grep -Eq 'snapshots   by fork: [1-9][0-9]* written' && break
	sleep 0.05
done
"$S" status blob | grep -Eq 'snapshots   by fork: [1-9][0-9]* written' ||
	fail "no snapshot written by fork: $("$S" status blob)"
n=$(grep -c 'blob: its state (268435508 bytes) goes to the worker by descriptor' "$T/log")
pid=$(col blob 3)
kill -KILL "$pid"
gone "$pid"
wait_state blob running
expect "$(grep -c 'blob: its state (268435508 bytes) goes to the worker by descriptor' "$T/log")" \
    $((n + 1)) "restart from the snapshot file by descriptor"
expect "$("$S" call blob hash)" "$h" "the state after a restart from the child's snapshot"

# state --raw: the worker's memfd handed to the client, which sends it on
# (sendfile): the same bytes as the image the snapshot child wrote, the
# supervisor's memory untouched. The JSON is decoded from the same memfd.
exec 8<"$(newest blob snapshot)"
"$S" state --raw blob >"$T/img" || fail "state --raw"
expect "$(stat -c %s "$T/img")" 268435508 "state --raw length"
tail -c 268435508 <&8 | cmp -s - "$T/img" || fail "state --raw differs from the snapshot file"
exec 8<&-
"$S" state --raw blob | cmp -s - "$T/img" || fail "state --raw into a pipe"
expect "$("$S" state blob | wc -c)" $((2 * 268435456 + 3)) "state as JSON by descriptor"
rm -f "$T/img"
# A client asking 12 at once, reading nothing meanwhile: each request one
# answer in order, a descriptor while the client's queue has room (at
# least the first 8), the explicit error past it (how many depends on how
# the worker's answers arrive together); every descriptor a memfd of the
# image's length, none left over.
out=$(python3 - "$SMSUP_SOCKET" <<'PY'
import array, os, re, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
p = struct.pack('<I', 4) + b'blob' + struct.pack('<I', 1)
s.sendall(b''.join(struct.pack('<IBBHQ', len(p), 1, 0x49, 0, i + 1) + p
                   for i in range(12)))
buf, fds, got = b'', [], []
while len(got) < 12:
    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(8 * 4))
    if not data:
        break
    for lvl, typ, d in anc:
        a = array.array('i'); a.frombytes(d[:len(d) - len(d) % 4]); fds += a
    buf += data
    while len(buf) >= 16:
        n, _, t, _, i = struct.unpack('<IBBHQ', buf[:16])
        if len(buf) < 16 + n:
            break
        pay, buf = buf[16:16 + n], buf[16 + n:]
        if t == 0x68:
            fd = fds.pop(0)
            k = struct.unpack('<I', pay[:4])[0]
            ln = struct.unpack('<Q', pay[4 + k:12 + k])[0]
            ok = os.fstat(fd).st_size >= ln == 268435508
            got.append((i, 'fd' if ok else 'badfd'))
            os.close(fd)
        else:
            got.append((i, 'err' if b'too many' in pay else 'other:%x' % t))
ids = [i for i, _ in got]
kinds = ''.join('f' if k == 'fd' else 'e' if k == 'err' else '?' for _, k in got)
ok = ids == list(range(1, 13)) and re.fullmatch('f{8,}e*', kinds) and not fds
print('ok' if ok else ' '.join('%d:%s' % g for g in got) + ' left %d' % len(fds))
PY
)
expect "$out" ok "12 state queries at once"
expect "$("$S" call blob hash)" "$h" "the machine after 12 state queries"
if [ -z "$SANITIZED" ]; then
	[ "$(hwm)" -lt 32 ] || fail "supervisor peak RSS $(hwm) MiB reading 256 MiB"
fi

# From the attack on this release: 300 queries pipelined by a client that
# then hangs up cost one image, not 300 (they made the worker miss its
# deadline, every restart again, until the machine failed); ten readers
# at once all get the image; a client that takes no descriptor is not
# copied 256 MiB into the supervisor; a trace with states leaves a large
# state out. The worker is never restarted meanwhile.
pid=$(col blob 3)
python3 - "$SMSUP_SOCKET" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
p = struct.pack('<I', 4) + b'blob' + struct.pack('<I', 1)
s.sendall(b''.join(struct.pack('<IBBHQ', len(p), 1, 0x49, 0, i + 1) + p
                   for i in range(300)))
s.close()
PY
expect "$(timeout 20 "$S" call -t 15 blob hash)" "$h" "a call after 300 abandoned queries"
readers=
for i in 1 2 3 4 5 6 7 8 9 10; do
	"$S" state --raw blob >"$T/r$i" 2>"$T/r$i.err" &
	readers="$readers $!"
done
for r in $readers; do
	wait "$r" || true
done
for i in 1 2 3 4 5 6 7 8 9 10; do
	expect "$(stat -c %s "$T/r$i")" 268435508 "reader $i of 10: $(cat "$T/r$i.err")"
	rm -f "$T/r$i"
done
out=$(python3 - "$SMSUP_SOCKET" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
p = struct.pack('<I', 4) + b'blob'
s.sendall(struct.pack('<IBBHQ', len(p), 1, 0x49, 0, 1) + p)
h = s.recv(16, socket.MSG_WAITALL)
n = struct.unpack('<I', h[:4])[0]
body = b''
while len(body) < n:
    body += s.recv(n - len(body))
print('%x %s' % (h[5], body.decode(errors='replace')))
PY
)
expect_match "$out" "^62 the state image is 256 MiB: past 16 MiB it is only passed as a descriptor" "a client without descriptors"
"$S" trace blob >"$T/trace" 2>&1 &
tr=$!
sleep 0.5
"$S" call blob nop >/dev/null || fail "a call while traced"
"$S" call blob nop >/dev/null || fail "a call while traced"
sleep 0.2
kill "$tr" 2>/dev/null || true
wait "$tr" 2>/dev/null || true
grep -q "#[0-9]* .*nop" "$T/trace" || fail "the calls not traced: $(head -c 200 "$T/trace")"
grep -q "New state" "$T/trace" && fail "a 256 MiB state traced: $(head -c 200 "$T/trace")"
expect "$(col blob 3)" "$pid" "the worker through all of it"
# A state that grows from small (its snapshots written by the worker
# itself) to 64 MiB between two snapshots: the next one is a file too.
"$S" run --snapshot-interval 0.2 --snapshot-inputs 0 grow="$T/blob" >/dev/null ||
	fail "run grow"
"$S" call grow size 1000 >/dev/null
for _ in $(seq 100); do
	"$S" status grow | grep -q 'by fork: [1-9][0-9]* written' && break
	sleep 0.05
done
"$S" call grow fill 67108864 3 >/dev/null
for _ in $(seq 200); do
	[ "$(stat -c %s "$(newest grow snapshot)" 2>/dev/null || echo 0)" -gt 67108864 ] && break
	sleep 0.05
done
[ "$(stat -c %s "$(newest grow snapshot)")" -gt 67108864 ] || fail "no snapshot of the grown state"
"$S" stop grow >/dev/null
if [ -z "$SANITIZED" ]; then
	[ "$(hwm)" -lt 32 ] || fail "supervisor peak RSS $(hwm) MiB after the attack"
fi

# A supervisor killed, then started again: the snapshot file is checked a
# chunk at a time and handed over by descriptor, never read into memory.
pid=$(col blob 3)
kill -KILL "$SUP"
gone "$SUP"
gone "$pid"
start --snapshot-interval 0 --snapshot-inputs 0 blob
expect "$(grep -c 'blob: its state (268435508 bytes) goes to the worker by descriptor' "$T/log")" \
    $((n + 2)) "start from the snapshot file by descriptor"
expect "$("$S" call blob hash)" "$h" "the state after a supervisor SIGKILL"
if [ -z "$SANITIZED" ]; then
	[ "$(hwm)" -lt 32 ] || fail "supervisor peak RSS $(hwm) MiB loading 256 MiB"
fi
echo "256 MiB loaded from its snapshot file: supervisor peak RSS $(hwm) MiB"
