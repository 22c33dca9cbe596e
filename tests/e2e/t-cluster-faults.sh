# t-cluster-faults.sh (issue 14): what an attack on the cluster found, each
# checked on three nodes on 127.0.0.1. A SIGHUP on one node upgrades
# nothing (a new binary at the machine's path would have made that node's
# state differ). Inputs that crash the worker, applied by the live nodes
# one by one, are replayed in milliseconds by a node started again: its
# machine is not failed by the restart budget, drops what the others
# dropped and applies what they applied (started from smsup.conf's cluster
# block). A worker killed from outside on one node, in the middle of an
# input, is given it again: that node drops nothing the others apply. A
# node whose newest raft snapshot
# is cut short refuses to start, saying why, rather than spinning. Bad
# settings: a clear error, exit 2.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
use examples/counter-v1 counter

CLUSTER_ARGS="--log-snapshot 16"
cluster_ports

wait_leader() {
	for _ in $(seq 200); do
		for i in 1 2 3; do
			on "$i" cluster status --json 2>/dev/null |
			    grep -q '"role":"leader"' && L=$i && return 0
		done
		sleep 0.05
	done
	fail "no leader"
}

# same NAME WANT: every node's state of NAME is WANT (waits for the last).
same() {
	for _ in $(seq 100); do
		ok=1
		for i in 1 2 3; do
			[ "$(on "$i" state "$1" 2>/dev/null)" = "$2" ] || ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.1
	done
	for i in 1 2 3; do echo "node $i: $(on "$i" state "$1" 2>&1)"; done >&2
	fail "$1: not $2 on every node"
}

# Bad settings, before anything starts.
status_of 2 "$S" -S "$T/x.sock" run --node 1=127.0.0.1:$BASE \
    --peer 2=127.0.0.1:$((BASE + 1)) --election-timeout nan
expect_match "$(cat "$T/err")" "bad value 'nan' for --election-timeout" "nan"
status_of 2 "$S" -S "$T/x.sock" run --node 1=127.0.0.1:$BASE \
    --peer 1=127.0.0.1:$((BASE + 1))
status_of 2 "$S" -S "$T/x.sock" run --peer 2=127.0.0.1:$BASE
status_of 2 "$S" -S "$T/x.sock" run --node 1=127.0.0.1:$BASE \
    --peer 2=127.0.0.1:$((BASE + 1)) counter
[ -e "$T/x.sock" ] && fail "a refused node left its socket"

for i in 1 2 3; do cluster_node "$i"; done
wait_leader
F=$((L % 3 + 1))

# SIGHUP on a follower, a new binary at the machine's path: nothing moves.
expect_match "$(on "$L" run counter=./counter)" "running version 1" "run"
on "$L" call counter incr >/dev/null
# (Each node starts it once it applies the entry: all of them first.)
same counter '{"n":1}'
install -m 0755 "$B/examples/counter-v2" "$T/counter"
eval "kill -HUP \$sup$F"
sleep 0.3
grep -q "SIGHUP: a node of a cluster reloads and upgrades nothing" "$T/log$F" ||
	fail "SIGHUP: $(grep SIGHUP "$T/log$F")"
on "$L" call counter incr >/dev/null
same counter '{"n":2}'
expect "$(on "$F" status counter | awk 'NR == 2 { print $2 }')" 1 \
    "the version on the node given SIGHUP"

# Crashing inputs, then a node replays them all at once.
expect_match "$(on "$L" run faulty=./faulty)" "running version 1" "run"
for k in 1 2 3 4 5 6 7; do
	on "$L" call faulty incr >/dev/null
	status_of 1 on "$L" call faulty boom
	expect_match "$(cat "$T/err")" "crashed applying this input" "boom $k"
done
on "$L" call faulty incr >/dev/null
same faulty '{"0":8,"1":0}'
eval "kill -KILL \$sup$F"
eval "wait \$sup$F" 2>/dev/null || true
# (Started again from smsup.conf's cluster block this time.)
{
	echo "state-dir $T/st$F"
	echo "cluster {"
	echo "	node $F=127.0.0.1:$((BASE + F))"
	for j in 1 2 3; do
		[ "$j" = "$F" ] || echo "	peer $j=127.0.0.1:$((BASE + j))"
	done
	echo "	election-timeout $ELECTION"
	echo "	log-snapshot 16"
	echo "}"
} >"$T/node.conf"
expect_match "$("$S" check-config -c "$T/node.conf")" "cluster: node $F=" "check-config"
printf 'cluster {\n\tpeer 2=127.0.0.1:%s\n}\n' $((BASE + 2)) >"$T/bad.conf"
status_of 1 "$S" check-config -c "$T/bad.conf"
expect_match "$(cat "$T/err")" "bad.conf:1: cluster: .*need --node" "a block that does not hold together"
status_of 2 "$S" -S "$T/n$F.sock" run -c "$T/node.conf" --join
"$S" -S "$T/n$F.sock" run -c "$T/node.conf" 2>>"$T/log$F" &
eval "sup$F=\$!"
for _ in $(seq 100); do
	on "$F" cluster status >/dev/null 2>&1 && break
	sleep 0.05
done
expect "$(on "$L" call faulty incr)" ok "after the restart"
same faulty '{"0":9,"1":0}'
grep -q "faulty: failed" "$T/log$F" &&
	fail "the replaying node failed its machine: $(grep 'faulty: failed' "$T/log$F")"

# A worker killed from outside on one node, three times under load: the
# input it was applying goes again there (a machine of a cluster drops an
# input only if it kills the worker twice), and no node drops anything.
# (Steps of 50 ms: a kill lands inside one.)
export SMSUP_SOCKET="$T/n$L.sock"
seq 40 | sed 's/.*/slow/' | "$S" call -l faulty >"$T/k.out" 2>"$T/k.err" &
loader=$!
# Each time, four kills 30 ms apart: the same input killed again while it
# goes again is still not dropped (a SIGKILL is never the input's doing).
for k in 1 2 3; do
	sleep 0.4
	for j in 1 2 3 4; do
		kill -KILL "$(on "$F" status faulty | awk 'NR == 2 { print $3 }')" 2>/dev/null || true
		sleep 0.03
	done
done
wait $loader || fail "the load: $(head -3 "$T/k.err")"
expect "$(grep -c '^ok$' "$T/k.out")" 40 "answers"
same faulty '{"0":49,"1":0}'
grep -q "given again, alone" "$T/log$F" ||
	fail "no kill landed inside an input: $(grep 'killed by signal 9' "$T/log$F")"

# The newest snapshot of a node cut short: it refuses to start, and says.
for k in $(seq 40); do on "$L" call counter incr >/dev/null; done
eval "kill -KILL \$sup$F"
eval "wait \$sup$F" 2>/dev/null || true
snap=$(ls -t "$T/st$F/raft" | grep -E '^snapshot-[0-9]+-[0-9]+-[0-9]+$' | head -1)
[ -n "$snap" ] || fail "node $F has no snapshot: $(ls "$T/st$F/raft")"
truncate -s 100 "$T/st$F/raft/$snap"
status_of 1 timeout 20 "$S" -S "$T/n$F.sock" run --state-dir "$T/st$F" \
    --node "$F=127.0.0.1:$((BASE + F))" --peer "$L=127.0.0.1:$((BASE + L))" \
    --election-timeout $ELECTION
expect_match "$(tail -1 "$T/err")" "fatal: cluster: raft start" "a cut snapshot"
for i in 1 2 3; do
	[ "$i" = "$F" ] && continue
	on "$i" shutdown
	eval "wait \$sup$i" || fail "node $i exited $?: $(tail -5 "$T/log$i")"
done
