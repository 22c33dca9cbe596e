# t-big-state-fd.sh (issue 12): a 256 MiB state moves by descriptor. Its
# upgrade goes through a sealed memfd the old worker fills and the new
# one maps (the log says "by descriptor"), a restart hands the new worker
# the same descriptor, and the state is the same byte for byte each time
# (a hash of every byte); the supervisor's peak resident memory stays
# under 32 MiB while the state moves so. A worker that takes no descriptors
# (SMSUP_INLINE_IMAGES=1) is given the bytes instead. Then a snapshot by
# fork of the 256 MiB is the file a restarted worker is given, and a
# supervisor started again after a SIGKILL hands the file over by
# descriptor without reading it into its memory.
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
