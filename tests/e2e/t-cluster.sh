# t-cluster.sh (issue 14): three supervisors on 127.0.0.1 as the nodes of
# a cluster on raft. They elect a leader and agree on it; a follower
# refuses to take a machine or an input and names the leader; a machine
# run on the leader runs on every node, and the inputs of four clients
# (per-client sequence numbers: orderly) are applied by every node, the
# same state everywhere. The leader SIGKILLed, another is elected within
# twice the election timeout and serves two more clients; the killed
# node, started again, restores its own last snapshot of the log and is
# sent the leader's (snapshots every 64 entries), and has the same state.
# A leader
# SIGSTOPped past the election timeout steps down when resumed, and
# nothing is lost or applied twice. A fourth node joins under load and is
# sent a snapshot; a follower is removed. One node alone does not upgrade
# a machine of the cluster; a machine stopped on the leader goes
# everywhere.
. "$(dirname "$0")/lib.sh"

use tests/orderly-v1 orderly
use tests/orderly-v2 orderly-v2
N=300
LIVE="1 2 3"

CLUSTER_ARGS="--log-snapshot 64"
cluster_ports

# The leader every live node names (and that says it leads), or nothing.
leader() {
	l=$(for i in $LIVE; do
		on "$i" cluster status --json 2>/dev/null |
		    sed -n 's/.*"leader":{"id":\([0-9]*\).*/\1/p'
	done | sort | uniq -c | awk -v n="$(echo $LIVE | wc -w)" \
	    '$1 == n { print $2 }')
	# (Named by the others, a stopped node may not answer.)
	[ -n "$l" ] && echo " $LIVE " | grep -q " $l " &&
	    on "$l" cluster status --json 2>/dev/null |
	    grep -q '"role":"leader"' && echo "$l"
}

# wait_leader SECONDS: the leader, once there is one.
wait_leader() {
	for _ in $(seq $(($1 * 20))); do
		L=$(leader) && [ -n "$L" ] && return 0
		sleep 0.05
	done
	fail "no leader agreed on by nodes $LIVE in $1 s"
}

# Every live node's state of orderly is the same: wait for the last.
same_state() {
	for _ in $(seq 100); do
		states=$(for i in $LIVE; do on "$i" state orderly 2>/dev/null
		    done | sort -u)
		[ "$(printf '%s\n' "$states" | wc -l)" = 1 ] &&
		    printf '%s\n' "$states" | grep -q "\"0\":$1," && return 0
		sleep 0.1
	done
	for i in $LIVE; do echo "node $i: $(on "$i" state orderly)"; done >&2
	fail "the nodes' states differ (want total $1)"
}

clients() {
	export SMSUP_SOCKET="$T/n$L.sock"
	for c in "$@"; do
		orderly_client "$c" $N 50 0.01
	done
	for c in "$@"; do
		eval "wait \$pid$c" || fail "client $c: $(head -3 "$T/c$c.err")"
		expect "$(grep -c '^ok' "$T/c$c.out")" $N "client $c answers"
	done
}

for i in 1 2 3; do cluster_node "$i"; done
wait_leader 10
F=$((L % 3 + 1))
status_of 1 on "$F" run orderly=./orderly
expect_match "$(cat "$T/err")" "not the leader of the cluster: node $L at 127.0.0.1:$((BASE + L)) leads" "a follower's refusal"
expect_match "$(on "$L" run orderly=./orderly)" "^orderly: running version 1" "run on the leader"
status_of 1 on "$F" call orderly "0 1"
expect_match "$(cat "$T/err")" "not the leader" "an input on a follower"
clients 0 1 2 3
expect "$(on "$L" call orderly check)" "total=$((4 * N)) violations=0 generation=0 last=$N,$N,$N,$N" "the leader's machine"
same_state $((4 * N))
# Every node applied every input, the leader's "check" too (a follower
# learns that it is committed with the next heartbeat).
for i in 1 2 3; do
	for _ in $(seq 50); do
		got=$(on "$i" status | awk '$1 == "orderly" { print $5 }')
		[ "$got" = $((4 * N + 1)) ] && break
		sleep 0.1
	done
	expect "$got" $((4 * N + 1)) "inputs applied by node $i"
done

# The leader SIGKILLed: another within twice the election timeout.
old=$L
eval "kill -KILL \$sup$old"
LIVE=$(echo 1 2 3 | tr ' ' '\n' | grep -vx "$old" | tr '\n' ' ')
t0=$(date +%s%N)
wait_leader 10
ms=$((($(date +%s%N) - t0) / 1000000))
echo "failover: node $L leads $ms ms after node $old was killed"
[ "$ms" -le $((2 * ELECTION * 1000)) ] ||
	fail "a new leader after $ms ms (election timeout ${ELECTION}s)"
clients 4 5
expect "$(on "$L" call orderly check)" "total=$((6 * N)) violations=0 generation=0 last=$N,$N,$N,$N" "after the failover"
same_state $((6 * N))

# The killed node again: it restores its last snapshot (its workers
# given the images and inputs it holds) and the leader, whose log no
# longer has what it missed, sends it one.
cluster_node "$old"
LIVE="1 2 3"
same_state $((6 * N))
grep -q "restored from the snapshot" "$T/log$old" ||
	fail "node $old restored no snapshot: $(grep cluster "$T/log$old")"
echo "node $old: $(grep -c 'restored from the snapshot' "$T/log$old") snapshots restored"
grep -q "cannot\|damaged\|not taken" "$T/log1" "$T/log2" "$T/log3" &&
	fail "$(grep "cannot\|damaged\|not taken" "$T/log1" "$T/log2" "$T/log3")"

# The leader SIGSTOPped past the election timeout, then resumed.
old=$L
eval "kill -STOP \$sup$old"
LIVE=$(echo 1 2 3 | tr ' ' '\n' | grep -vx "$old" | tr '\n' ' ')
wait_leader 10
clients 6
eval "kill -CONT \$sup$old"
LIVE="1 2 3"
wait_leader 10
[ "$L" != "$old" ] || on "$old" cluster status | grep -q 'term' ||
	fail "the resumed node"
expect "$(on "$L" call orderly check)" "total=$((7 * N)) violations=0 generation=0 last=$N,$N,$N,$N" "after the stop"
same_state $((7 * N))
expect_match "$(on "$old" cluster status | head -1)" "node +$old, (follower|leader)" "the resumed node"

# Membership: a fourth node joins under load and catches up by snapshot,
# then a follower is removed and shut down.
"$S" -S "$T/n4.sock" run --state-dir "$T/st4" --join \
    --node "4=127.0.0.1:$((BASE + 4))" --election-timeout $ELECTION \
    --log-snapshot 64 2>>"$T/log4" &
sup4=$!
export SMSUP_SOCKET="$T/n$L.sock"
orderly_client 7 $N 50 0.01
expect "$(on "$L" cluster add 4=127.0.0.1:$((BASE + 4)))" \
    "node 4 added: it has the log and votes" "cluster add"
eval "wait \$pid7" || fail "client 7: $(head -3 "$T/c7.err")"
LIVE="1 2 3 4"
same_state $((8 * N))
grep -q "restored from the snapshot" "$T/log4" ||
	fail "node 4 caught up without a snapshot: $(grep cluster "$T/log4")"
status_of 1 on "$L" cluster add 4=127.0.0.1:$((BASE + 4))
expect_match "$(cat "$T/err")" "cannot add node 4" "a node added twice"
# A node that is not running: refused, and the members as they were.
status_of 1 on "$L" cluster add 5=127.0.0.1:$((BASE + 5))
expect_match "$(cat "$T/err")" "cannot add node 5" "a node not running"
on "$L" cluster status | grep -q '^5 ' && fail "a failed add left node 5: $(on "$L" cluster status)"
R=$(echo 1 2 3 4 | tr ' ' '\n' | grep -vx "$L" | head -1)
expect "$(on "$L" cluster remove "$R")" "node $R removed" "cluster remove"
on "$R" shutdown
eval "wait \$sup$R" || fail "node $R exited $?"
LIVE=$(echo 1 2 3 4 | tr ' ' '\n' | grep -vx "$R" | tr '\n' ' ')
expect "$(on "$L" cluster status --json | grep -o '"role":"voter"' |
    wc -l)" 3 "members after the removal"
status_of 1 on "$L" cluster remove 9
expect_match "$(cat "$T/err")" "cannot remove node 9" "an unknown node"
status_of 2 on "$L" cluster add nonsense

# No upgrade by one node; a stop goes everywhere.
status_of 1 on "$L" upgrade orderly=./orderly-v2
expect_match "$(cat "$T/err")" "not upgraded by one node" "a local upgrade"
expect "$(on "$L" stop orderly)" stopped "stop"
for i in $LIVE; do
	for _ in $(seq 50); do
		[ -z "$(on "$i" status | awk '$1 == "orderly"')" ] && break
		sleep 0.1
	done
	[ -z "$(on "$i" status | awk '$1 == "orderly"')" ] ||
		fail "node $i still runs orderly"
done
status_of 2 on "$L" cluster nonsense
for i in $LIVE; do
	on "$i" shutdown
	eval "wait \$sup$i" || fail "node $i exited $?: $(tail -5 "$T/log$i")"
done
