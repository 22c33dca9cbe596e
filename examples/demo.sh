#!/bin/sh
# demo.sh: the seeds' counter session, end to end, printing each step.
# Usage: examples/demo.sh BUILD_DIR   (make demo runs it)
set -eu
B=$(cd "${1:-build}" && pwd)
D=$(mktemp -d "${TMPDIR:-/tmp}/smsup-demo.XXXXXX")
export SMSUP_SOCKET="$D/control.sock" SMSUP_PATH="$D" SMSUP_STATE_DIR="$D/state"
PATH="$B:$PATH"
sup=
cleanup() {
	[ -n "$sup" ] && kill "$sup" 2>/dev/null && wait "$sup" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
cd "$D"

step() {
	printf '$ %s\n' "$*"
	"$@"
}

echo "# In $D, with its own socket. Terminal 1 runs the supervisor;"
echo "# its log is shown at the end."
step install "$B/examples/counter-v1" ./counter
echo '$ smsup run counter &'
smsup run counter 2>"$D/log" &
sup=$!
until smsup status 2>/dev/null | grep -q ' running '; do sleep 0.05; done
echo
echo "# Terminal 2:"
step smsup call counter incr
step smsup call counter incr
step smsup call counter count
echo "# v2: the state becomes the pair {old, new}; migrate(\"1\") gives {n, n}."
step install "$B/examples/counter-v2" ./counter
echo "\$ kill -HUP $sup            # or: smsup upgrade counter"
kill -HUP "$sup"
until smsup status counter | grep -q '^counter  *2 '; do sleep 0.05; done
step smsup call counter incr
step smsup call counter incr
step smsup call counter count
step smsup status
step smsup shutdown
wait "$sup"
sup=
echo
echo "# The supervisor's log (terminal 1):"
sed 's/^/  /' "$D/log"
