#!/bin/sh
# valgrind.sh: the supervisor under valgrind memcheck through the seed's
# counter session, a state query, a trace, an upgrade and a shutdown; it
# passes with 0 errors and 0 bytes definitely lost. (make valgrind)
set -eu
B=$(cd "${BUILD:-build}" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/smsup-vg.XXXXXX")
trap 'pkill -KILL -f "$T/" 2>/dev/null || true; rm -rf "$T"' EXIT
export SMSUP_SOCKET="$T/control.sock" SMSUP_STATE_DIR="$T/state"
S=$B/smsup
install -m 0755 "$B/examples/counter-v1" "$T/counter"
cd "$T"
valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
    --error-exitcode=99 --log-file="$T/vg.log" "$S" run counter 2>"$T/log" &
VG=$!
for _ in $(seq 200); do
	"$S" status 2>/dev/null | grep -q running && break
	sleep 0.1
done
"$S" trace counter >"$T/trace" 2>/dev/null &
sleep 0.5
"$S" call counter incr
"$S" call counter incr
"$S" call counter count
"$S" state counter
install -m 0755 "$B/examples/counter-v2" "$T/counter"
"$S" upgrade counter
"$S" call counter incr
"$S" call counter count
"$S" status counter >/dev/null
"$S" status --json >/dev/null
"$S" shutdown
rc=0
wait $VG || rc=$?
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$T/vg.log")
lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$T/vg.log")
echo "valgrind: supervisor exit $rc, ${errors:-?} errors, ${lost:-0} bytes definitely lost"
if [ "$rc" -ne 0 ] || [ "${errors:-1}" -ne 0 ] || [ "${lost:-0}" != 0 ]; then
	cat "$T/vg.log"
	exit 1
fi
