# t-remote-ssh.sh: `smsup -H ssh://user@host:port` and $SMSUP_HOST, end to
# end against a real sshd on 127.0.0.1 started here with its own host key
# and authorized key: call, status, state, upgrade, stdin, exit statuses,
# and the errors for bad hosts and unreachable ones.
. "$(dirname "$0")/lib.sh"

SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || fail "no $SSHD (make deps installs openssh-server)"
command -v ssh >/dev/null || fail "no ssh (make deps installs openssh-client)"

use examples/counter-v1 counter
use examples/counter-v2 counter2
start counter

ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$T/id"
cp "$T/id.pub" "$T/authorized_keys"
PORT=$((20000 + $$ % 20000))
cat >"$T/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $PORT
HostKey $T/hostkey
AuthorizedKeysFile $T/authorized_keys
PidFile $T/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
CONF
# Privilege separation needs its directory when sshd runs as root.
[ "$(id -u)" -ne 0 ] || mkdir -p /run/sshd
"$SSHD" -f "$T/sshd_config" -D -e 2>"$T/sshd.log" &
SSHD_PID=$!
trap 'r=$?; kill $SSHD_PID 2>/dev/null || true; (exit $r); cleanup' EXIT INT TERM

export SMSUP_SSH="ssh -F /dev/null -i $T/id -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=$T/known_hosts -o LogLevel=ERROR"
export SMSUP_REMOTE="$S"
HOST="ssh://$(id -un)@127.0.0.1:$PORT"
for _ in $(seq 100); do
	"$S" -H "$HOST" -S "$SMSUP_SOCKET" status >/dev/null 2>&1 && break
	kill -0 $SSHD_PID 2>/dev/null || fail "sshd died: $(cat "$T/sshd.log")"
	sleep 0.1
done

# The remote side is this host's supervisor, reached only through ssh:
# the local socket variable is not what the remote smsup sees.
R() { env -u SMSUP_SOCKET "$S" -H "$HOST" -S "$SMSUP_SOCKET" "$@"; }
expect "$(R call counter incr)" ok "remote call"
expect "$(printf incr | R call counter -)" ok "remote call from stdin"
expect "$(R call counter count)" 2 "remote count"
expect "$(R state counter)" '{"n":2}' "remote state"
expect_match "$(R status counter)" 'binary +'"$T"'/counter' "remote status"
R upgrade "counter=$T/counter2" >/dev/null
expect "$(R call counter count)" 2 "count after a remote upgrade"
expect "$(R state counter)" '{"old":2,"n":2}' "state after a remote upgrade"
# Arguments with quotes and spaces arrive as they left.
status_of 1 R call counter "it's a \"test\""
expect_match "$(cat "$T/err")" "unknown input 'it's a \"test\"'" "quoting"
status_of 1 R call nosuch incr
expect_match "$(cat "$T/err")" 'no such machine: nosuch' "remote errors"

# $SMSUP_HOST does the same as -H.
expect "$(SMSUP_HOST=$HOST env -u SMSUP_SOCKET "$S" -S "$SMSUP_SOCKET" call counter count)" 2 "SMSUP_HOST"

# Bad hosts are usage errors; unreachable ones say so with status 3.
status_of 2 "$S" -H "http://x" status
expect_match "$(cat "$T/err")" "bad host 'http://x'" "bad scheme"
status_of 2 "$S" -H "ssh://-oProxyCommand=x" status
status_of 3 "$S" -H "ssh://$(id -un)@127.0.0.1:1" status
expect_match "$(cat "$T/err")" 'cannot reach .*127.0.0.1 over ssh' "unreachable"
