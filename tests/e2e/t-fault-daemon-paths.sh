# t-fault-daemon-paths.sh (issue 11, items 5 and 13): `run -d` makes every
# path absolute before it detaches. Two supervisors started from two
# directories with the same relative --state-dir and -S keep two states;
# the log is next to the socket given; the lock file names the live
# supervisor. An invalid machine name is a usage error (2) for run as
# for call.
. "$(dirname "$0")/lib.sh"

use examples/counter-v1 counter
unset SMSUP_SOCKET SMSUP_STATE_DIR
mkdir "$T/a" "$T/b"
for d in a b; do
	(cd "$T/$d" && "$S" -S sock run -d --state-dir st "counter=$T/counter") >"$T/$d.out" ||
		fail "$d: run -d: $(cat "$T/$d.out")"
	[ -S "$T/$d/sock" ] || fail "$d: no socket at $T/$d/sock"
	[ -f "$T/$d/sock.log" ] || fail "$d: no log at $T/$d/sock.log"
done
[ ! -e /sock.log ] || fail "a log written at /sock.log"
[ ! -e /st ] || fail "a state written at /st"
for i in $(seq 10); do "$S" -S "$T/a/sock" call counter incr >/dev/null; done
for i in $(seq 3); do "$S" -S "$T/b/sock" call counter incr >/dev/null; done
pa=$(sed -n 's/.*supervisor started (pid \([0-9]*\)).*/\1/p' "$T/a.out")
pb=$(sed -n 's/.*supervisor started (pid \([0-9]*\)).*/\1/p' "$T/b.out")
expect "$(cat "$T/a/st/lock")" "$pa" "a: the lock names the supervisor"
kill -0 "$pa" || fail "a: pid $pa is not alive"
# A second supervisor on a's state directory is told who has it.
status_of 1 "$S" -S "$T/c.sock" run --state-dir "$T/a/st" "counter=$T/counter"
expect_match "$(cat "$T/err")" "state directory $T/a/st is in use by the supervisor with pid $pa\$" "refusal"
"$S" -S "$T/a/sock" shutdown >/dev/null
"$S" -S "$T/b/sock" shutdown >/dev/null
gone "$pa"
gone "$pb"
(cd "$T/a" && "$S" -S sock run -d --state-dir st "counter=$T/counter") >/dev/null
expect "$("$S" -S "$T/a/sock" call counter count)" 10 "a's count after a restart"
(cd "$T/b" && "$S" -S sock run -d --state-dir st "counter=$T/counter") >/dev/null
expect "$("$S" -S "$T/b/sock" call counter count)" 3 "b's count after a restart"
"$S" -S "$T/a/sock" shutdown >/dev/null
"$S" -S "$T/b/sock" shutdown >/dev/null

# Exit statuses of invalid names.
status_of 2 "$S" -S "$T/d.sock" run "bad/name=$T/counter"
expect_match "$(cat "$T/err")" "invalid machine name 'bad/name'" "run"
status_of 2 "$S" -S "$T/d.sock" call "bad/name" incr
status_of 2 "$S" -S "$T/d.sock" run "=x"
