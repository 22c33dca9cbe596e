# t-fault-security-paths.sh (issue 11, items 11 and 12), as root with a
# second user: no binary another user could change or swap is run, and
# the state directory cannot be turned against root.
#  - a symlink in a safe directory to a binary in a world-writable one, a
#    binary in a directory of another user, a link that user planted in a
#    sticky directory: refused at run and at upgrade;
#  - 60 `upgrade -f` while that user swaps a link in their directory
#    between root's binary and theirs: their program never runs;
#  - the default state directory under $TMPDIR, made by that user, with
#    `lock` a link to a file of root's: refused, the file untouched; a
#    state directory of another user's, one others may write, a lock or a
#    machine directory that is a link: refused;
#  - the socket in a sticky directory where that user planted links for
#    its lock, its log and the pid file: none is written through;
#  - a configuration file that user could change: refused.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "t-fault-security-paths: not root: skipped" >&2
	exit 0
fi
use examples/counter-v1 counter
use examples/counter-v2 counter2
other_user smsupa
start counter

# Their program, if it ever runs, leaves a mark.
mkdir -m 0755 "$T/att"
chown "$U" "$T/att"
printf '#!/bin/sh\ntouch %s/PWNED\nexit 0\n' "$T" >"$T/att/evil"
chown "$U" "$T/att/evil"
chmod 0755 "$T/att/evil"

# A safe link to a world-writable directory.
mkdir -m 0777 "$T/ww"
install -m 0755 "$B/examples/counter-v2" "$T/ww/counter"
mkdir "$T/safe"
ln -s "$T/ww/counter" "$T/safe/counter"
status_of 1 "$S" upgrade "counter=$T/safe/counter"
expect_match "$(cat "$T/err")" "refusing a binary under $T/ww, writable by others and not sticky" "link into a world-writable directory"
status_of 1 "$S" run "other=$T/safe/counter"

# A root-owned binary in a directory of another user's.
install -m 0755 "$B/examples/counter-v2" "$T/att/counter"
status_of 1 "$S" upgrade "counter=$T/att/counter"
expect_match "$(cat "$T/err")" "refusing a binary under $T/att, owned by uid $(id -u "$U"), neither us nor root" "another user's directory"

# A link that user planted in a sticky directory.
mkdir -m 1777 "$T/sticky"
as_other ln -s "$T/counter2" "$T/sticky/counter"
status_of 1 "$S" upgrade "counter=$T/sticky/counter"
expect_match "$(cat "$T/err")" "refusing a symbolic link of uid $(id -u "$U") on the way \\($T/sticky/counter\\)" "a planted link"

# The race: 60 forced upgrades while they swap their link.
ln -s "$T/counter2" "$T/att/link"
chown -h "$U" "$T/att/link"
as_other /usr/bin/python3 -c "
import os
a, b, new, link = '$T/att/evil', '$T/counter2', '$T/att/link.new', '$T/att/link'
while True:
    for t in (a, b):
        try:
            os.unlink(new)
        except OSError:
            pass
        os.symlink(t, new)
        os.rename(new, link)
" &
swapper=$!
refused=0
for i in $(seq 60); do
	if "$S" upgrade -f "counter=$T/att/link" >/dev/null 2>&1; then
		fail "upgrade $i through another user's directory succeeded"
	fi
	refused=$((refused + 1))
done
kill "$swapper"
wait "$swapper" 2>/dev/null || true
[ ! -e "$T/PWNED" ] || fail "another user's program ran as root"
expect "$(col counter 4)" running "the machine serves on"
expect "$("$S" call counter incr)" ok "and answers"

# The state directory.
"$S" shutdown >/dev/null
gone "$SUP"
SUP=
echo precious >"$T/victim"
mkdir -m 1777 "$T/tmp"
as_other mkdir -m 0777 "$T/tmp/smsup-0"
as_other mkdir -m 0777 "$T/tmp/smsup-0/state"
as_other ln -s "$T/victim" "$T/tmp/smsup-0/state/lock"
status_of 1 env -u HOME -u XDG_STATE_HOME -u SMSUP_STATE_DIR TMPDIR="$T/tmp" \
    "$S" -S "$T/s1.sock" run "counter=$T/counter"
expect_match "$(cat "$T/err")" "refusing a state directory under $T/tmp/smsup-0, owned by uid $(id -u "$U"), neither us nor root" "default state directory made by another user"
expect "$(cat "$T/victim")" precious "the file the link pointed at"
mkdir -m 0700 "$T/st2"
mkdir "$T/st2/state"
chown "$U" "$T/st2/state"
status_of 1 "$S" -S "$T/s2.sock" run --state-dir "$T/st2/state" "counter=$T/counter"
expect_match "$(cat "$T/err")" "refusing the state directory $T/st2/state, owned by uid $(id -u "$U"), not us" "another user's state directory"
mkdir -m 0777 "$T/st3"
status_of 1 "$S" -S "$T/s3.sock" run --state-dir "$T/st3" "counter=$T/counter"
expect_match "$(cat "$T/err")" "refusing the state directory $T/st3, writable by others" "a state directory others may write"
mkdir -m 0700 "$T/st4"
ln -s "$T/victim" "$T/st4/lock"
status_of 1 "$S" -S "$T/s4.sock" run --state-dir "$T/st4" "counter=$T/counter"
expect_match "$(cat "$T/err")" "$T/st4/lock: Too many levels of symbolic links" "a lock that is a link"
expect "$(cat "$T/victim")" precious "the file the lock pointed at"
mkdir -m 0700 "$T/st5" "$T/elsewhere"
ln -s "$T/elsewhere" "$T/st5/counter"
start --state-dir "$T/st5" "counter=$T/counter"
expect_match "$(cat "$T/log")" "counter: cannot start: $T/st5/counter: not a directory of ours" "a machine directory that is a link"
[ -z "$(ls "$T/elsewhere")" ] || fail "wrote through the link"
"$S" shutdown >/dev/null
gone "$SUP"
SUP=

# The socket in a sticky directory, links planted next to it.
mkdir -m 1777 "$T/pub"
echo precious >"$T/victim2"
as_other ln -s "$T/victim" "$T/pub/ctl.sock.log"
as_other ln -s "$T/victim2" "$T/pub/smsup.pid.tmp"
as_other ln -s "$T/created-by-root" "$T/pub/ctl.sock.lock"
"$S" -S "$T/pub/ctl.sock" run -d --state-dir "$T/st6" --pid-file "$T/pub/smsup.pid" "counter=$T/counter" >/dev/null 2>"$T/err6" || true
"$S" -S "$T/pub/ctl.sock" shutdown >/dev/null 2>&1 || true
expect "$(cat "$T/victim")" precious "the log link's target"
expect "$(cat "$T/victim2")" precious "the pid file link's target"
[ ! -e "$T/created-by-root" ] || fail "a file made through the lock's link"
expect_match "$(cat "$T/err6")" "ctl.sock.lock: a symbolic link: refused" "the lock's link refused"
as_other rm -f "$T/pub/ctl.sock.lock"
"$S" -S "$T/pub/ctl.sock" run -d --state-dir "$T/st6" --pid-file "$T/pub/smsup.pid" "counter=$T/counter" >/dev/null 2>"$T/err6" || true
expect_match "$(cat "$T/err6")" "ctl.sock.log: a symbolic link: refused" "the log's link refused"
expect "$(cat "$T/victim")" precious "the log link's target, again"

# A configuration file another user could change.
printf 'machine counter {\n\tpath %s\n}\n' "$T/counter" >"$T/c.conf"
chmod 0666 "$T/c.conf"
status_of 1 "$S" check-config -c "$T/c.conf"
expect_match "$(cat "$T/err")" "refusing a file writable by group or others" "a world-writable configuration"
chmod 0644 "$T/c.conf"
chown "$U" "$T/c.conf"
status_of 1 "$S" check-config -c "$T/c.conf"
expect_match "$(cat "$T/err")" "refusing a file owned by uid $(id -u "$U")" "another user's configuration"
chown 0 "$T/c.conf"
"$S" check-config -c "$T/c.conf" >/dev/null || fail "a safe configuration refused"
echo "refused: a link into a world-writable directory, another user's directory, a planted link, $refused swapped links, 5 unsafe state directories, 3 links next to the socket, 2 unsafe configuration files"
