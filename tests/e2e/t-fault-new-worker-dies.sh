# t-fault-new-worker-dies.sh (issue 11, item 7): the new worker of an
# upgrade is SIGKILLed at every phase: before it says hello, while its
# group waits, while the old worker serializes a large state (several
# times: its channel may end before its exit is seen, and the old
# worker's image come in between), while it migrates, while the group
# waits for the other member's migration, and on probation. Each time
# the supervisor lives, the upgrade fails and says so, the old worker
# (the same process) serves on, and every input of a client running
# through it all is applied once, in order.
. "$(dirname "$0")/lib.sh"

use tests/ledger-v1 ledger
use tests/ledger-v2 ledger2
use tests/ledger-v1 other
use tests/ledger-v2 other2
printf '#!/bin/sh\nsleep 30\n' >"$T/silent"
chmod +x "$T/silent"
start --upgrade-timeout 20 ledger other
"$S" call ledger pad 41943040 >/dev/null
pid=$(col ledger 3)
seq 1 100000 | awk '{ print 1, $1; if (NR % 200 == 0) { fflush(); system("sleep 0.01") } }' |
	"$S" send -l ledger >"$T/s.out" 2>"$T/s.err" &
sender=$!

# new_pid BINARY: the pid of the next worker spawned from BINARY (the
# ones seen before are in $T/seen).
new_pid() {
	touch "$T/seen"
	for _ in $(seq 400); do
		for p in $(sed -n "s|.*spawned $T/$1 (pid \([0-9]*\)).*|\1|p" "$T/log"); do
			grep -qx "$p" "$T/seen" && continue
			echo "$p" >>"$T/seen"
			echo "$p"
			return 0
		done
		sleep 0.01
	done
	fail "no new worker $1"
}

# until_state MACHINE STATE: poll status every 10 ms.
until_state() {
	for _ in $(seq 2000); do
		col "$1" 4 | grep -Eqx "$2" && return 0
		sleep 0.01
	done
	fail "$1 never $2"
}

# upgrade_bg ARGS: an upgrade in the background; its answer in $T/up.
upgrade_bg() {
	"$S" upgrade "$@" >"$T/up" 2>&1 &
	UP=$!
}

upgrade_done() {
	if wait "$UP"; then fail "$1: the upgrade succeeded: $(cat "$T/up")"; fi
	expect_match "$(cat "$T/up")" "$2" "$1: upgrade answer"
	kill -0 "$SUP" || fail "$1: the supervisor died"
	expect "$(col ledger 3)" "$pid" "$1: the old worker serves"
	expect "$(col ledger 4)" running "$1: state"
}

# Before hello: a binary that never says it.
upgrade_bg ledger="$T/silent"
p=$(new_pid silent)
kill -KILL "$p"
upgrade_done "before hello" "new worker \\(pid [0-9]+\\) killed by signal 9 .*before saying hello"

# While its group waits: the other member's binary is silent.
upgrade_bg ledger=ledger2 other="$T/silent"
p=$(new_pid ledger2)
kill -KILL "$p"
upgrade_done "while the group waits" "killed by signal 9"
pkill -KILL -f "^$T/silent\$" || true

# While the old worker serializes 40 MiB (slowly: by descriptor it is
# quick), five times. (The new one then migrates slowly too; still, a
# status client under ASan on a loaded machine saw it migrate and killed
# it only after the upgrade was done: such a try does not count, and the
# machine goes back to version 1.)
"$S" call ledger arm saveslow >/dev/null
landed=0
for i in $(seq 15); do
	upgrade_bg ledger=ledger2
	p=$(new_pid ledger2)
	# (A slow status client, under ASan, may see it migrate already.)
	until_state ledger "suspended|migrating"
	kill -KILL "$p"
	if wait "$UP"; then
		# The kill came after the upgrade was done (a status client
		# starved on a loaded machine): that one does not count. Back
		# to version 1, and again.
		until_state ledger running
		"$S" upgrade ledger=ledger >/dev/null ||
			fail "back to version 1 after try $i"
		"$S" call ledger arm saveslow >/dev/null
		pid=$(col ledger 3)
		continue
	fi
	expect_match "$(cat "$T/up")" "killed by signal 9|is gone" "while the old one serializes ($i): upgrade answer"
	kill -0 "$SUP" || fail "while the old one serializes ($i): the supervisor died"
	expect "$(col ledger 3)" "$pid" "while the old one serializes ($i): the old worker serves"
	expect "$(col ledger 4)" running "while the old one serializes ($i): state"
	landed=$((landed + 1))
	[ $landed -eq 5 ] && break
done
[ $landed -eq 5 ] || fail "only $landed kills of 15 landed inside the upgrade"
"$S" call ledger arm none >/dev/null

# While it migrates: a migration that hangs.
"$S" call ledger arm hang >/dev/null
upgrade_bg ledger=ledger2
p=$(new_pid ledger2)
until_state ledger migrating
kill -KILL "$p"
upgrade_done "while it migrates" "killed by signal 9 .*during the migration"
"$S" call ledger arm none >/dev/null

# Migrated, while the group waits for the other one's migration.
"$S" call other arm hang >/dev/null
upgrade_bg ledger=ledger2 other=other2
p=$(new_pid ledger2)
until_state other migrating
until_state ledger migrating
sleep 0.3
kill -KILL "$p"
upgrade_done "migrated, while the group waits" "killed by signal 9"
"$S" call other arm none >/dev/null

# On probation: the old worker takes over again.
upgrade_bg -p 30 ledger=ledger2
p=$(new_pid ledger2)
until_state ledger probation
kill -KILL "$p"
upgrade_done "on probation" "rolled back to version 1"

wait "$sender" || fail "sender: $(head -3 "$T/s.err")"
expect_match "$("$S" call ledger check)" '^violations=0 ' "no input twice or out of order"
d=$("$S" call ledger dump 1)
expect_match "$d" '^last=100000 ' "every input of the sender"
skipped=$(printf '%s\n' "$d" | sed 's/.*skipped=//')
if [ -n "$skipped" ]; then
	for n in $(printf '%s\n' "$skipped" | tr ',' ' '); do
		grep -q "	1 $n\$" "$T/state/ledger/dropped" ||
			fail "input $n lost without being dropped"
	done
fi
echo "the new worker killed at 11 points of 6 phases: the supervisor and the old worker served through each; $(printf '%s\n' "$d" | sed 's/.*count=\([0-9]*\).*/\1/') of 100000 inputs applied, the rest dropped with their worker: ${skipped:-none}"
