# t-fault-descriptors.sh (issue 11, items 10 and 4): out of descriptors.
# With a hard limit of 1024 and 1,100 idle connections, the supervisor
# accepts clients only while it keeps descriptors enough for its machines
# (new ones wait in the listen backlog), does not spin (CPU and log
# lines stay quiet), serves the clients it has, and its journal and
# snapshots keep working: with --durability always, every input
# acknowledged meanwhile is there after a SIGKILL. Once the idle clients
# go, new ones are served.
. "$(dirname "$0")/lib.sh"

use tests/ledger-v1 ledger
ticks() {
	awk '{ print $14 + $15 }' "/proc/$SUP/stat"
}

prlimit --nofile=1024:1024 "$S" run --durability always --snapshot-inputs 500 ledger 2>>"$T/log" &
SUP=$!
wait_state ledger running
# A client that was there first streams sends all along.
seq 1 4000 | awk '{ print 1, $1; if (NR % 100 == 0) { fflush(); system("sleep 0.05") } }' |
	"$S" send -l ledger >"$T/s.out" 2>"$T/s.err" &
sender=$!
sleep 0.2
python3 - "$SMSUP_SOCKET" 1100 "$T/idle.ready" <<'PY' &
import socket, sys, time
path, n, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
held = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
    except BlockingIOError:
        pass
    held.append(s)
open(ready, "w").close()
time.sleep(600)
PY
idle=$!
for _ in $(seq 100); do [ -e "$T/idle.ready" ] && break; sleep 0.1; done
sleep 0.5
t0=$(ticks)
sleep 2
t1=$(ticks)
wait "$sender" || fail "sender: $(head -3 "$T/s.err")"
cpu=$((t1 - t0))
[ "$cpu" -lt 100 ] || fail "the supervisor used $cpu ticks in 2s with 1,100 idle clients"
lines=$(grep -c 'clients connected\|accept' "$T/log" || true)
[ "$lines" -le 3 ] || fail "$lines log lines about accepting"
expect_match "$(cat "$T/log")" 'clients connected, as many as the descriptors allow \(RLIMIT_NOFILE, less 106 for the machines\): new ones wait' "logged once"
grep -q 'snapshot not written\|persistence degraded' "$T/log" && fail "the store ran out of descriptors: $(grep -m1 'snapshot not\|degraded' "$T/log")"
# The idle ones go: new clients are accepted again.
kill "$idle"
wait "$idle" 2>/dev/null || true
expect_match "$("$S" call -t 10 ledger check)" '^violations=0 ' "a new client"
kill -KILL "$SUP"
wait "$SUP" 2>/dev/null || true
pkill -KILL -f "$T/ledger" || true
start ledger
d=$("$S" call ledger dump 1)
expect_match "$d" '^last=4000 count=4000 ' "every acknowledged input after the SIGKILL"
echo "1,100 idle clients on 1024 descriptors: $cpu ticks of CPU in 2s, $lines log lines, 4000 of 4000 acknowledged inputs kept"
