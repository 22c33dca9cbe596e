# lib.sh: shared by the end-to-end tests; sourced, not run.
# Each test gets its own directory, socket and supervisor, and cleans up
# every process it started, so tests can run in parallel.
set -eu

B=$(cd "${BUILD:-build}" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)	# before the cd below
S=$B/smsup
T=$(mktemp -d "${TMPDIR:-/tmp}/smsup-e2e.XXXXXX")
export SMSUP_SOCKET="$T/control.sock"
export SMSUP_STATE_DIR="$T/state"
export SMSUP_PATH="$T"
SUP=
# Built with ASan (make asan): memory figures do not hold there.
SANITIZED=
nm "$S" 2>/dev/null | grep -q __asan_init && SANITIZED=1
cd "$T"

cleanup() {
	rc=$?
	if [ -n "$SUP" ] && kill -0 "$SUP" 2>/dev/null; then
		kill -TERM "$SUP" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$SUP" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$SUP" 2>/dev/null || true
	fi
	# Anything still running from this test's directory (workers, clients).
	pkill -KILL -f "$T/" 2>/dev/null || true
	if [ $rc -ne 0 ] && [ -f "$T/log" ]; then
		echo "--- supervisor log" >&2
		tail -n 40 "$T/log" >&2
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect ACTUAL EXPECTED [what]
expect() {
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
}

# expect_match TEXT PATTERN [what]  (grep -E pattern)
expect_match() {
	printf '%s\n' "$1" | grep -Eq -- "$2" ||
		fail "${3:-text}: '$1' does not match /$2/"
}

# Copy a built binary into the test directory under a name.
use() {
	install -m 0755 "$B/$1" "$T/$2"
}

# Start a supervisor in the foreground (background job) with machines,
# and wait until it answers and none of them is still starting.
start() {
	"$S" run "$@" 2>>"$T/log" &
	SUP=$!
	for _ in $(seq 200); do
		if st=$("$S" status 2>/dev/null) &&
		    ! printf '%s\n' "$st" | awk '{ print $4 }' | grep -qx starting
		then
			return 0
		fi
		kill -0 "$SUP" 2>/dev/null || fail "supervisor died at start: $(tail -1 "$T/log"); lock held by: $(fuser -v "$T/state/lock" 2>&1 | tail -n +2; for p in $(fuser "$T/state/lock" 2>/dev/null); do tr '\0' ' ' </proc/$p/cmdline; echo " (ppid $(awk '{print $4}' /proc/$p/stat))"; done)"
		sleep 0.05
	done
	fail "supervisor not ready"
}

# Wait until process $1 has exited (a zombie counts as exited).
gone() {
	for _ in $(seq 100); do
		[ -r "/proc/$1/stat" ] || return 0
		# A zombie leader whose other threads still run (the
		# supervisor's syncer closing a large file) holds its files.
		awk '{ exit $3 != "Z" }' "/proc/$1/stat" 2>/dev/null &&
			[ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -le 1 ] &&
			return 0
		sleep 0.05
	done
	fail "process $1 still running"
}

# Wait until the status of machine $1 shows state $2.
wait_state() {
	for _ in $(seq 200); do
		"$S" status "$1" 2>/dev/null | awk 'NR == 2 { print $4 }' |
			grep -qx "$2" && return 0
		sleep 0.05
	done
	fail "$1 never became $2: $("$S" status "$1" 2>&1)"
}

# Column $2 (1-based) of machine $1's status line.
col() {
	"$S" status "$1" | awk -v c="$2" 'NR == 2 { print $c }'
}

# Run a command expecting exit status $1; its stderr goes to $T/err.
status_of() {
	want=$1
	shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	set -e
	[ "$got" -eq "$want" ] ||
		fail "'$*' exited $got, expected $want: $(cat "$T/err")"
}

# load_start MACHINE N: a client streams N "incr" inputs to MACHINE in the
# background, a pause every 100, so that what the test does meanwhile
# happens under load. load_wait checks every one was answered "ok".
load_start() {
	awk -v n="$2" 'BEGIN {
		for (i = 1; i <= n; i++) {
			print "incr"
			if (i % 100 == 0) { fflush(); system("sleep 0.01") }
		}
	}' | "$S" call -l "$1" >"$T/load.out" 2>"$T/load.err" &
	LOAD=$!
	LOADN=$2
}

load_wait() {
	wait "$LOAD" || fail "load client: $(head -3 "$T/load.err")"
	expect "$(grep -c '^ok$' "$T/load.out")" "$LOADN" "load answers"
}

# Machine $1's count must be $2.
expect_count() {
	expect "$("$S" call "$1" count)" "$2" "count of $1"
}

# The last upgrade failed and the machine still serves version $2 with pid $3.
expect_kept() {
	expect "$(col "$1" 2)" "$2" "version of $1 after a failed upgrade"
	expect "$(col "$1" 3)" "$3" "pid of $1 after a failed upgrade"
	expect "$(col "$1" 4)" running "state of $1 after a failed upgrade"
}

# orderly_client C N EVERY SLEEP: client C streams "C 1" .. "C N" to the
# orderly machine in the background, pausing SLEEP seconds every EVERY
# lines; answers in $T/cC.out, errors in $T/cC.err, its pid in $pidC.
orderly_client() {
	awk -v c="$1" -v n="$2" -v every="$3" -v pause="$4" 'BEGIN {
		for (i = 1; i <= n; i++) {
			print c, i
			if (i % every == 0) { fflush(); system("sleep " pause) }
		}
	}' | "$S" call -l orderly >"$T/c$1.out" 2>"$T/c$1.err" &
	eval "pid$1=\$!"
}

# newest MACHINE KIND: the path of the newest file of KIND (snapshot or
# journal) in MACHINE's state directory, or nothing.
newest() {
	ls "$T/state/$1" 2>/dev/null | grep -E "^$2\\.[0-9]+\$" |
	    sort -t. -k2 -n | tail -1 | sed "s|^|$T/state/$1/|"
}

# other_user PREFIX: as root, a second user $U for the test (as_other CMD
# runs CMD as it), removed at the end: its processes first, and the
# supervisor before them, or it restarts them; else userdel refuses.
other_user() {
	U=$1$$
	useradd -M -d /nonexistent -s /usr/sbin/nologin "$U"
	trap 'r=$?; gone_user; (exit $r); cleanup' EXIT INT TERM
	chmod 0711 "$T"
}

gone_user() {
	"$S" shutdown >/dev/null 2>&1 || true
	[ -z "$SUP" ] || gone "$SUP"
	pkill -KILL -u "$U" 2>/dev/null || true
	for _ in $(seq 50); do userdel "$U" 2>/dev/null && return; sleep 0.1; done
}

as_other() {
	setpriv --reuid="$U" --regid="$U" --clear-groups "$@"
}

# Clusters (t-cluster*.sh): nodes 1..3 on 127.0.0.1 ports $BASE + ID, a
# socket and a state directory each; $ELECTION and $CLUSTER_ARGS given to
# every node. on I CMD...: smsup on node I. cluster_node I: start node I
# of 3 in the background (its pid in $supI), wait until it answers.
# cluster_ports: $BASE, eight ports free when the test starts (cluster
# tests run side by side).
cluster_ports() {
	BASE=$((20000 + ($$ % 5000) * 8))
	while ! python3 -c 'import socket, sys
b = int(sys.argv[1])
for p in range(b, b + 8):
    s = socket.socket()
    s.bind(("127.0.0.1", p))
    s.close()' "$BASE" 2>/dev/null; do
		BASE=$((BASE + 8))
	done
}
ELECTION=1
CLUSTER_ARGS=
on() {
	i=$1
	shift
	"$S" -S "$T/n$i.sock" "$@"
}
cluster_node() {
	peers=
	for j in 1 2 3; do
		[ "$j" = "$1" ] || peers="$peers --peer $j=127.0.0.1:$((BASE + j))"
	done
	# shellcheck disable=SC2086
	"$S" -S "$T/n$1.sock" run --state-dir "$T/st$1" \
	    --node "$1=127.0.0.1:$((BASE + $1))" $peers \
	    --election-timeout $ELECTION $CLUSTER_ARGS 2>>"$T/log$1" &
	eval "sup$1=\$!"
	for _ in $(seq 100); do
		on "$1" cluster status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "node $1 does not answer: $(tail -3 "$T/log$1")"
}
