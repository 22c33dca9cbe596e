# t-security.sh: who may talk to the supervisor and what it runs: another
# user is refused (by the socket's mode, and by SO_PEERCRED when the mode
# would let them in) and learns nothing; workers get only their channel
# as a descriptor and a small explicit environment; binaries writable by
# others, or in directories others can change, are refused.
. "$(dirname "$0")/lib.sh"

use examples/counter-v1 counter
use examples/counter-v2 counter2
FOO_SECRET=hunter2 SMSUP_WORKER_ENV="EXTRA_OK" EXTRA_OK=yes start counter

# What a worker writes goes to the log, line by line, after its name.
printf '#!/bin/sh\necho "said on stderr \033[31m" >&2\necho "and on stdout"\nexit 3\n' >"$T/noisy"
chmod 0755 "$T/noisy"
"$S" run --restart temporary "noisy=$T/noisy" >/dev/null 2>&1 || true
for _ in $(seq 50); do grep -q 'noisy\[[0-9]*\]: and on stdout' "$T/log" && break; sleep 0.1; done
expect_match "$(cat "$T/log")" 'noisy\[[0-9]+\]: said on stderr \?\[31m' "a worker's stderr, escaped"
expect_match "$(cat "$T/log")" 'noisy\[[0-9]+\]: and on stdout' "a worker's stdout"
"$S" stop noisy >/dev/null 2>&1 || true

# The worker: descriptors 0, 1, 2 and its channel 3, and the file for
# its next snapshot (unnamed, in its own state directory), nothing else.
worker_fds() {
	fds=$(ls /proc/"$1"/fd | sort -n | tr '\n' ' ')
	case "$fds" in
	"0 1 2 3 ") ;;
	"0 1 2 3 4 ")
		expect_match "$(readlink /proc/"$1"/fd/4)" "^$T/state/$2/#[0-9]+ \\(deleted\\)\$" \
		    "$3: the snapshot file"
		;;
	*) fail "$3: $fds" ;;
	esac
}
pid=$(col counter 3)
worker_fds "$pid" counter "worker descriptors"
env=$(tr '\0' '\n' <"/proc/$pid/environ")
expect_match "$env" '^SMSUP_FD=3$' "SMSUP_FD"
expect_match "$env" '^SMSUP_MACHINE=counter$' "SMSUP_MACHINE"
expect_match "$env" '^EXTRA_OK=yes$' "SMSUP_WORKER_ENV passes a variable"
printf '%s\n' "$env" | grep -q FOO_SECRET && fail "worker got FOO_SECRET"
printf '%s\n' "$env" | grep -q '^SMSUP_SOCKET' && fail "worker got SMSUP_SOCKET"
expect_match "$(ls -ld "$(dirname "$SMSUP_SOCKET")")" '^drwx------' "socket directory mode"
expect_match "$(ls -l "$SMSUP_SOCKET")" '^srw-------' "socket mode"

# Binaries others could change are refused, at run and at upgrade.
install -m 0775 "$B/examples/counter-v2" "$T/gw"
status_of 1 "$S" upgrade "counter=$T/gw"
expect_match "$(cat "$T/err")" "refusing a binary writable by group or others \\(chmod go-w $T/gw\\)" "group-writable binary"
mkdir -m 0777 "$T/open"
install -m 0755 "$B/examples/counter-v2" "$T/open/counter"
status_of 1 "$S" run "other=$T/open/counter"
expect_match "$(cat "$T/err")" "refusing a binary under $T/open, writable by others and not sticky" "world-writable directory"
chmod 1777 "$T/open"
"$S" run "other=$T/open/counter" >/dev/null || fail "a sticky directory is fine"
expect "$("$S" call counter incr)" ok "still serving"

# Another user.
if [ "$(id -u)" -ne 0 ]; then
	echo "t-security: not root: the second-user part needs root" >&2
	exit 0
fi
other_user smsupt
status_of 3 as_other "$S" status
expect_match "$(cat "$T/err")" 'Permission denied' "socket directory keeps others out"
# Even with the socket open to all, the supervisor itself refuses them.
chmod 0711 "$(dirname "$SMSUP_SOCKET")"
chmod 0666 "$SMSUP_SOCKET"
status_of 1 as_other "$S" status
expect "$(cat "$T/err")" "smsup: permission denied" "SO_PEERCRED refusal"
status_of 1 as_other "$S" call counter incr
expect "$(cat "$T/err")" "smsup: permission denied" "no machine names in the refusal"
expect_match "$(cat "$T/log")" "refused a client of uid $(id -u "$U") \\(pid [0-9]+\\): only uid 0 and root may control this supervisor" "refusal logged"
expect "$("$S" call counter count)" 1 "root still served, nothing applied for the other"

# Per machine: another user and group, resource limits set before exec.
status_of 1 "$S" run --user nosuchuser$$ "bad=$T/counter"
expect_match "$(cat "$T/err")" "no such user: nosuchuser$$" "unknown user"
# (Under ASan a worker needs terabytes of address space: no memory limit.)
mem="--limit-memory 512M"
[ -z "$SANITIZED" ] || mem=
"$S" run --user "$U" --group nogroup --limit-files 64 $mem \
	--limit-cpu 3600 "lim=$T/counter" >/dev/null
pid=$(col lim 3)
expect "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" "$(id -u "$U")" "worker uid"
expect "$(awk '/^Gid:/ { print $2 }' "/proc/$pid/status")" "$(getent group nogroup | cut -d: -f3)" "worker gid"
expect_match "$(cat "/proc/$pid/limits")" 'Max open files +64 +64 ' "file limit"
[ -n "$SANITIZED" ] ||
	expect_match "$(cat "/proc/$pid/limits")" 'Max address space +536870912 +536870912 ' "memory limit"
expect_match "$(cat "/proc/$pid/limits")" 'Max cpu time +3600 +3600 ' "cpu limit"
worker_fds "$pid" lim "descriptors of a forked worker"
# Neither our terminal nor our log: a pipe, a session of its own, its HOME.
expect_match "$(readlink "/proc/$pid/fd/1") $(readlink "/proc/$pid/fd/2")" '^pipe:\[[0-9]+\] pipe:\[[0-9]+\]$' "stdout and stderr of another user's worker"
[ "$(awk '{ print $6 }' "/proc/$pid/stat")" != "$(awk '{ print $6 }' "/proc/$SUP/stat")" ] ||
	fail "another user's worker in the supervisor's session"
expect "$(awk '{ print $7 }' "/proc/$pid/stat")" 0 "no controlling terminal"
env=$(tr '\0' '\n' <"/proc/$pid/environ")
expect_match "$env" "^HOME=/nonexistent\$" "HOME of the user"
expect_match "$env" "^USER=$U\$" "USER of the user"
expect "$("$S" call lim incr)" ok "the machine as another user"
# An upgrade and a restart keep them.
"$S" upgrade "lim=$T/counter2" >/dev/null
pid=$(col lim 3)
expect "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" "$(id -u "$U")" "uid after an upgrade"
kill -KILL "$pid"
wait_state lim running
expect_match "$(cat "/proc/$(col lim 3)/limits")" 'Max open files +64 +64 ' "limits after a restart"
expect "$("$S" call lim count)" 1 "state kept"
