# t-snapshot-fork.sh (issue 12): snapshots by fork. While a snapshot child
# of the worker writes the state (made slow: 300 ms), the worker goes on
# answering; a child killed mid-write leaves the previous snapshot files
# as they were and the machine serving, said in the log and in status;
# the snapshot a child wrote is the restart base (handed to the next
# worker by descriptor) and what a restarted supervisor loads; a child's
# snapshot older than the base (an upgrade's image came meanwhile), or
# from an old worker kept on probation, is dropped, breaking nothing.
# With --snapshot-fork no, snapshots are inline.
. "$(dirname "$0")/lib.sh"

use tests/ledger-v1 ledger
start --snapshot-interval 0.2 --snapshot-inputs 0 ledger
"$S" call ledger pad 8388608 >/dev/null
"$S" call ledger arm saveslow >/dev/null
pid=$(col ledger 3)
n=0

# The worker's snapshot child, once there is one.
child() {
	for _ in $(seq 300); do
		c=$(pgrep -P "$pid" 2>/dev/null | head -1 || true)
		[ -n "$c" ] && { echo "$c"; return 0; }
		sleep 0.01
	done
	fail "no snapshot child of $pid: $(tail -5 "$T/log")"
}

# A snapshot child, stopped (one that ends as we find it: the next).
stop_child() {
	for _ in $(seq 50); do
		c=$(child)
		kill -STOP "$c" 2>/dev/null && return 0
		input "another snapshot"
	done
	fail "no snapshot child could be stopped"
}

input() {
	n=$((n + 1))
	expect "$("$S" call ledger 1 "$n")" "ok 1 $n" "${1:-input} $n"
}

snapshots() {
	cd "$T/state/ledger" && md5sum snapshot.* && cd "$T"
}

written() {
	"$S" status ledger | awk '$1 == "snapshots" { print $4 }'
}

# Served while the child writes.
for _ in 1 2 3; do
	input
	c=$(child)
	input "while the child runs"
	input "while the child runs"
	kill -0 "$c" 2>/dev/null || fail "the child was done before the calls were answered"
	gone "$c"
done
expect_match "$("$S" status ledger)" 'snapshots   by fork: [1-9][0-9]* written, 0 failed' "status"

# A child killed mid-write: the previous snapshot stays.
input
c=$(child)
before=$(snapshots)
kill -KILL "$c"
for _ in $(seq 100); do
	grep -q 'ledger: snapshot not written: the snapshot child was killed by signal 9 (the previous one stays)' "$T/log" && break
	sleep 0.02
done
grep -q 'ledger: snapshot not written: the snapshot child was killed by signal 9 (the previous one stays)' "$T/log" ||
	fail "the killed child is not in the log"
expect "$(snapshots)" "$before" "the snapshot files after the child was killed"
expect "$(col ledger 3)" "$pid" "the same worker serves"
expect "$(col ledger 4)" running "state"
st=$("$S" status ledger)
expect_match "$st" 'ledger: state directory: snapshot not written: the snapshot child was killed by signal 9 \(the previous one stays\)' "status note"
expect_match "$st" 'snapshots   by fork: [0-9]+ written, 1 failed' "status counts"
input "after the kill"

# The next ones are written again; the last is the restart base.
"$S" call ledger arm none >/dev/null
w=$(written)
for _ in $(seq 20); do input; done
# (The next child 5 s after the failed one at the soonest.)
for _ in $(seq 200); do
	[ "$(written)" -gt "$w" ] && break
	sleep 0.05
done
[ "$(written)" -gt "$w" ] || fail "no snapshot written after the failed one"
expect_match "$("$S" status ledger)" '^ledger +1 ' "the note is gone once one is written"
kill -KILL "$pid"
gone "$pid"
wait_state ledger running
grep -Eq 'ledger: its state \([0-9]+ bytes\) goes to the worker by descriptor' "$T/log" ||
	fail "restart not from the snapshot file by descriptor"
pid=$(col ledger 3)
input "after the restart"
expect_match "$("$S" call ledger dump 1)" "^last=$n count=$n " "inputs after the restart"

# A supervisor killed, then started again, loads the child's snapshot.
kill -KILL "$SUP"
gone "$SUP"
gone "$pid"
start --snapshot-interval 0.2 --snapshot-inputs 0 ledger
expect "$("$S" call ledger check)" "violations=0 total=$n generation=0 skipped=0" "after a supervisor SIGKILL"

# A child's snapshot that comes after the base moved past it (the image
# of an upgrade whose migration then failed) is dropped, and so is one
# that comes from an old worker kept on probation: neither breaks a
# worker, and the old worker, back after a rollback, snapshots by fork.
use tests/ledger-v2 ledger2
pid=$(col ledger 3)
"$S" call ledger pad 134217728 >/dev/null
"$S" call ledger arm fail >/dev/null
input
stop_child
status_of 1 "$S" upgrade ledger=ledger2
kill -CONT "$c"
gone "$c"
sleep 0.2
expect "$(col ledger 3)" "$pid" "the worker after its stale snapshot"
grep -q 'broke the protocol' "$T/log" && fail "a stale snapshot broke the worker: $(grep 'broke the protocol' "$T/log")"
input "after the stale snapshot"
"$S" call ledger arm none >/dev/null
input
stop_child
"$S" upgrade -p 3 ledger=ledger2 >"$T/up" 2>&1 &
up=$!
for _ in $(seq 200); do
	[ "$(col ledger 4)" = probation ] && break
	sleep 0.05
done
expect "$(col ledger 4)" probation "on probation"
kill -CONT "$c"
gone "$c"
sleep 0.2
grep -q 'suspended old worker sent' "$T/log" && fail "the kept worker was retired: $(grep 'suspended old worker sent' "$T/log")"
# The new one dies on probation: the old one, back, snapshots by fork.
kill -KILL "$(col ledger 3)"
if wait "$up"; then fail "the upgrade held after its worker died: $(cat "$T/up")"; fi
expect_match "$(cat "$T/up")" 'rolled back to version 1' "rollback"
expect "$(col ledger 3)" "$pid" "the old worker after the rollback"
"$S" call ledger pad 8388608 >/dev/null
w=$(written)
input "after the rollback"
for _ in $(seq 100); do
	[ "$(written)" -gt "$w" ] && break
	sleep 0.05
done
[ "$(written)" -gt "$w" ] || fail "no snapshot by fork after the rollback: $("$S" status ledger)"

# Off: inline.
"$S" shutdown >/dev/null
gone "$SUP"
start --snapshot-interval 0.2 --snapshot-fork no ledger
pid=$(col ledger 3)
expect_match "$("$S" status ledger)" 'snapshots   inline' "status with --snapshot-fork no"
e=$(newest ledger snapshot)
for _ in $(seq 5); do input; done
for _ in $(seq 100); do
	[ "$(newest ledger snapshot)" != "$e" ] && break
	sleep 0.05
done
[ "$(newest ledger snapshot)" != "$e" ] || fail "no inline snapshot"
expect "$(pgrep -P "$pid" || true)" "" "no child with --snapshot-fork no"
expect_match "$("$S" call ledger check)" "^violations=0 total=$n generation=[0-9]+ skipped=0\$" "at the end"
