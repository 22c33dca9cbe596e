# t-matrix-not-a-worker.sh: a new binary that is missing, not executable,
# not a worker at all, or another machine is refused before the machine
# pauses, under load; the reason is printed and logged.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
use examples/kv-v1 kv
start faulty
pid=$(col faulty 3)
printf '#!/bin/sh\nexit 0\n' >"$T/script"
chmod +x "$T/script"
printf '#!/bin/sh\nsleep 30\n' >"$T/silent"
chmod +x "$T/silent"
printf 'not a program\n' >"$T/plain"

load_start faulty 3000
for c in "missing:No such file or directory" \
    "plain:not executable" \
    "script:exited with status 0 before saying hello \\(is it an smsup worker\\?\\)" \
    "kv:is machine kv, not faulty"; do
	bin=${c%%:*}
	status_of 1 "$S" upgrade faulty="$T/$bin"
	expect_match "$(cat "$T/err")" "^smsup: faulty: upgrade failed: .*${c#*:}.*; version 1 keeps serving$" "$bin"
	grep -qE "upgrade failed: .*${c#*:}" "$T/log" || fail "$bin: not logged"
	expect_kept faulty 1 "$pid"
done
# A binary that never says hello: refused when the timeout strikes.
status_of 1 "$S" upgrade -t 0.5 faulty="$T/silent"
expect_match "$(cat "$T/err")" 'timed out after 0.5s waiting for the new worker to say hello' silent
expect_kept faulty 1 "$pid"
load_wait
expect_count faulty 3000
expect "$(col faulty 8)" 0 "upgrades"
expect "$("$S" history faulty | grep -c FAILED)" 5 "failures in the history"
