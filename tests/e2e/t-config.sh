# t-config.sh: smsup.conf(5): check-config, run -c (socket and state
# directory from the file), SIGHUP reloads (new machines start, removed
# ones stop, changed binaries upgrade, settings change, a file with an
# error changes nothing), the systemd notify protocol, journald priorities
# and -q, -d with a pid file.
. "$(dirname "$0")/lib.sh"

use examples/counter-v1 counter
use examples/counter-v2 counter2
use examples/kv-v1 kv
use tests/faulty-v1 faulty

cat >"$T/smsup.conf" <<CONF
# a comment
socket "$T/conf.sock"
state-dir state2
durability none          # a default for what follows

machine counter {
	path counter
	restart transient
}
machine faulty {
	path $T/faulty
	snapshot-inputs 5
}
CONF
out=$("$S" check-config -c "$T/smsup.conf")
expect_match "$out" "machine counter: $T/counter, durability none" "check-config lists machines"
expect_match "$out" 'smsup.conf: OK, 2 machines$' "check-config OK"

# Each error names its file and line; the exit status is 1.
bad() {	# bad LINE-OF-TEXT EXPECTED-MESSAGE
	printf 'machine x {\n\tpath counter\n%s\n}\n' "$1" >"$T/bad.conf"
	status_of 1 "$S" check-config -c "$T/bad.conf"
	expect_match "$(cat "$T/err")" "^smsup: $T/bad.conf:$2" "bad config: $1"
}
bad "	frobnicate 1" '3: unknown setting .frobnicate.'
bad "	durability sometimes" "3: bad value 'sometimes' for --durability"
bad "	restart" '3: restart takes one value'
bad "machine y {" '3: machine inside machine x'
bad '	path "unterminated' '3: unterminated quote'
printf 'machine x {\n}\n' >"$T/bad.conf"
status_of 1 "$S" check-config -c "$T/bad.conf"
expect_match "$(cat "$T/err")" 'bad.conf:2: machine x has no path' "no path"
printf 'machine x {\n\tpath nothere\n}\n' >"$T/bad.conf"
status_of 1 "$S" check-config -c "$T/bad.conf"
expect_match "$(cat "$T/err")" "bad.conf:1: machine x: .*nothere" "missing binary"
printf 'machine x {\n\tpath counter\n}\nmachine x {\n\tpath counter\n}\n' >"$T/bad.conf"
status_of 1 "$S" check-config -c "$T/bad.conf"
expect_match "$(cat "$T/err")" 'bad.conf:4: machine x already defined at line 1' "duplicate"
status_of 1 "$S" check-config -c "$T/nofile.conf"
status_of 2 "$S" check-config

# run -c under a stand-in for systemd: notify socket and journal stream.
"$B/tests/notifyd" "$T/notify" >"$T/notes" &
NOTIFYD=$!
for _ in $(seq 50); do [ -S "$T/notify" ] && break; sleep 0.05; done
: >"$T/journal"
JS=$(stat -c '%d:%i' "$T/journal")
unset SMSUP_SOCKET
NOTIFY_SOCKET="$T/notify" JOURNAL_STREAM=$JS "$S" run -c "$T/smsup.conf" \
	2>>"$T/journal" &
SUP=$!
export SMSUP_SOCKET="$T/conf.sock"
for _ in $(seq 100); do grep -q READY=1 "$T/notes" && break; sleep 0.05; done
expect_match "$(grep READY=1 "$T/notes")" '^READY=1\|STATUS=2 machines: 2 running, 0 starting, 0 upgrading, 0 stopping, 0 failed$' "READY=1 once all run"
[ -S "$T/conf.sock" ] || fail "socket from the config file"
[ -d "$T/state2" ] || fail "state directory from the config file"
expect_match "$(cat "$T/journal")" '^<6>counter: running counter version 1' "journald priorities"
"$S" call counter incr >/dev/null
expect_match "$("$S" status counter)" 'restarts    0 \(policy transient\)' "settings from the file"
expect_match "$("$S" status counter)" 'durability  none' "defaults from the file"

# Reload: kv added, faulty removed, counter to a new binary.
cat >"$T/smsup.conf" <<CONF
socket "$T/conf.sock"
machine counter {
	path counter2
}
machine kv {
	path kv
}
CONF
before=$(wc -l <"$T/notes")
after() { tail -n +$((before + 1)) "$T/notes"; }
kill -HUP $SUP
wait_state kv running
for _ in $(seq 100); do [ "$(col counter 2)" = 2 ] && break; sleep 0.05; done
expect "$(col counter 2)" 2 "changed binary upgraded"
expect "$("$S" call counter count)" 1 "state kept through the reload"
for _ in $(seq 100); do "$S" status faulty >/dev/null 2>&1 || break; sleep 0.05; done
status_of 1 "$S" status faulty
expect_match "$("$S" status counter)" 'restarts    0 \(policy permanent\)' "settings changed"
for _ in $(seq 100); do after | grep -q 'READY=1' && break; sleep 0.05; done
expect_match "$(after | head -n 1)" '^RELOADING=1\|MONOTONIC_USEC=[0-9]+\|STATUS=reloading$' "RELOADING=1"
expect_match "$(after | grep READY=1)" '^READY=1\|STATUS=2 machines: 2 running' "READY=1 after the reload"

# A file with an error: nothing changes, the log says where.
printf 'machine counter {\n\tpath counter\n\tbogus yes\n}\n' >"$T/smsup.conf"
kill -HUP $SUP
for _ in $(seq 100); do grep -q 'configuration rejected' "$T/journal" && break; sleep 0.05; done
expect_match "$(cat "$T/journal")" "^<4>warning: SIGHUP: $T/smsup.conf:3: unknown setting 'bogus': configuration rejected, the running one stays" "rejected reload"
expect "$(col counter 2)" 2 "running configuration stays"
wait_state kv running

"$S" shutdown >/dev/null
wait $SUP || fail "supervisor exit status: $(tail -n 20 "$T/journal")"
SUP=
expect_match "$(grep STOPPING "$T/notes")" '^STOPPING=1\|STATUS=stopping$' "STOPPING=1"
kill $NOTIFYD

# -q: warnings only. -d: a daemon with a pid file, not a session leader.
export SMSUP_SOCKET="$T/control.sock"
"$S" run -q counter 2>"$T/quiet" &
SUP=$!
wait_state counter running
"$S" shutdown >/dev/null
wait $SUP
SUP=
expect "$(cat "$T/quiet")" "" "-q logs no information"
out=$("$S" run -d --pid-file "$T/smsup.pid" counter)
SUP=$(echo "$out" | sed -n 's/.*supervisor started (pid \([0-9]*\)).*/\1/p')
[ -n "$SUP" ] || fail "no pid in '$out'"
expect "$(cat "$T/smsup.pid")" "$SUP" "pid file"
expect "$(col counter 4)" running "machine of the daemon"
sid=$(ps -o sid= -p "$SUP" | tr -d ' ')
[ "$sid" != "$SUP" ] || fail "the daemon is a session leader"
[ "$(ps -o tty= -p "$SUP" | tr -d ' ')" = "?" ] || fail "the daemon has a terminal"
"$S" shutdown >/dev/null
gone "$SUP"
[ ! -e "$T/smsup.pid" ] || fail "pid file left behind"
