# t-inspect.sh: looking inside: `smsup state` (JSON, --raw, errors),
# `smsup trace` (inputs with client, output and state, --no-state,
# upgrades, restarts, the end when the machine stops, a trace under load
# that loses nothing), `smsup run -v`, `status NAME` and `status --json`.
. "$(dirname "$0")/lib.sh"

use examples/counter-v1 counter
use examples/counter-v2 counter2
use examples/kv-v1 kv
use tests/faulty-v1 faulty

# run -v: the seed's "Output: / New state:" session, in the foreground.
"$S" run -v counter kv faulty >"$T/fg" 2>>"$T/log" &
SUP=$!
for _ in $(seq 100); do "$S" status >/dev/null 2>&1 && break; sleep 0.05; done
wait_state counter running
wait_state faulty running

expect "$("$S" state counter)" '{"n":0}' "initial state"
"$S" call counter incr >/dev/null
"$S" call counter incr >/dev/null
expect "$("$S" state counter)" '{"n":2}' "state after two inputs"
"$S" call kv 'put k v"1' >/dev/null
expect "$("$S" state kv)" '[{"key":"k","value":"v\"1"}]' "kv state, escaped"
# faulty has no field names: numbered.
expect_match "$("$S" state faulty)" '^\{"0":0' "numbered fields"

# --raw is the image itself: what `BIN --sm-migrate` reads.
"$S" state --raw counter >"$T/img"
expect "$("$T/counter2" --sm-migrate <"$T/img" | head -c 8)" SMSUPIMG "raw image migrates offline"
status_of 1 "$S" state nosuch
expect_match "$(cat "$T/err")" 'no such machine: nosuch' "state of an unknown machine"
status_of 2 "$S" state
if command -v script >/dev/null; then
	script -qc "$S state --raw counter" /dev/null >"$T/tty" 2>&1 || true
	expect_match "$(cat "$T/tty")" 'redirect it to a file or a pipe' "--raw refuses a terminal"
fi

# A trace: one line per input, then the upgrade, then the end.
"$S" trace counter >"$T/trace" 2>"$T/trace.err" &
TR=$!
"$S" trace --no-state counter >"$T/trace2" 2>/dev/null &
TR2=$!
for _ in $(seq 100); do grep -q tracing "$T/trace.err" 2>/dev/null && break; sleep 0.05; done
expect_match "$(cat "$T/trace.err")" '^smsup: tracing counter: version 1, pid [0-9]+, running' "trace banner"
sleep 0.2
"$S" call counter incr >/dev/null
"$S" send counter incr >/dev/null
"$S" call counter bogus 2>/dev/null || true
"$S" upgrade counter=counter2 >/dev/null
"$S" call counter count >/dev/null
for _ in $(seq 100); do [ "$(wc -l <"$T/trace")" -ge 5 ] && break; sleep 0.05; done
expect_match "$(sed -n 1p "$T/trace")" '^counter #3 call from pid [0-9]+: incr  Output: ok  New state: \{"n":3\}$' "trace line of a call"
expect_match "$(sed -n 2p "$T/trace")" '^counter #4 send from pid [0-9]+: incr  Output: ok  New state: \{"n":4\}$' "trace line of a send"
expect_match "$(sed -n 3p "$T/trace")" "^counter #5 call from pid [0-9]+: bogus  Error: unknown input 'bogus'.*  New state: \{\"n\":4\}$" "trace line of an error"
expect_match "$(sed -n 4p "$T/trace")" '^counter: upgraded 1 -> 2 \(pid [0-9]+\): pause ' "trace shows the upgrade"
expect_match "$(sed -n 5p "$T/trace")" '^counter #6 call from pid [0-9]+: count  Output: 4  New state: \{"old":4,"n":4\}$' "trace after the upgrade"
expect_match "$(sed -n 1p "$T/trace2")" '^counter #3 call from pid [0-9]+: incr  Output: ok$' "--no-state"

# A restart shows too.
"$S" trace faulty >"$T/trace3" 2>/dev/null &
TR3=$!
sleep 0.3
kill -KILL "$(col faulty 3)"
wait_state faulty running
for _ in $(seq 100); do grep -q 'running version' "$T/trace3" && break; sleep 0.05; done
expect_match "$(cat "$T/trace3")" 'faulty: worker \(pid [0-9]+\) killed by signal 9 \(Killed\); no input lost; restart 1 in 0ms' "trace shows the crash"
expect_match "$(cat "$T/trace3")" 'faulty: running version 1' "and the restart"

# Under load, a trace loses nothing and changes nothing: 2,000 inputs.
for _ in $(seq 2000); do echo incr; done >"$T/inputs"
"$S" call -l counter <"$T/inputs" >/dev/null
for _ in $(seq 200); do [ "$(wc -l <"$T/trace2")" -ge 2003 ] && break; sleep 0.05; done
expect "$(grep -c 'Output: ok$' "$T/trace2")" 2002 "every input traced once"
expect "$("$S" call counter count)" 2004 "count after the traced load"

# A trace that does not read loses lines, says so, and slows nobody.
mkfifo "$T/fifo"
"$S" trace --no-state counter >"$T/fifo" 2>/dev/null &
TR4=$!
exec 3<"$T/fifo"
sleep 0.2
for _ in $(seq 300000); do echo incr; done >"$T/many"
"$S" call -l counter <"$T/many" >/dev/null
expect "$("$S" call counter count)" 302004 "inputs while a trace stalls"
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$SUP/status")
[ -n "$SANITIZED" ] || [ "$rss" -lt 65536 ] ||
	fail "supervisor RSS ${rss} KiB with a stalled trace"
cat <&3 >"$T/stalled" &
# The note comes with the first event after the trace has caught up.
for _ in $(seq 200); do
	"$S" call counter incr >/dev/null
	grep -q 'events dropped' "$T/stalled" && break
	sleep 0.05
done
expect_match "$(cat "$T/stalled")" 'counter: [0-9]+ events dropped \(the trace read too slowly\)' "dropped trace lines"
kill $TR4 2>/dev/null || true
exec 3<&-

# Stopping the machine ends its traces (exit 0).
"$S" stop counter >/dev/null
wait $TR || fail "trace exit status"
wait $TR2 || fail "trace --no-state exit status"
expect_match "$(tail -n 1 "$T/trace")" '^counter: stopped$' "trace ends with the stop"

# status NAME: the detail view; --json: everything, valid JSON.
d=$("$S" status kv)
expect_match "$d" '  binary      '"$T"'/kv' "detail: binary"
expect_match "$d" '  format      A\(S\(ss\)\), fields \(key,value\)' "detail: format"
expect_match "$d" '  inputs      1 applied, 0 errors' "detail: inputs"
expect_match "$d" '  memory      [0-9.]+ MiB resident' "detail: memory"
expect_match "$d" '  restarts    0 \(policy permanent\)' "detail: restarts"
js=$("$S" status --json)
expect_match "$js" '^\{"machines":\[.*\{"name":"kv","machine":"kv","version":"1","state":"running"' "json"
expect_match "$js" '"memory_bytes":[1-9][0-9]*' "json memory"
expect_match "$js" '"name":"faulty".*"restarts":1,"last_crash":"worker \(pid [0-9]+\) killed by signal 9' "json restarts"
if command -v python3 >/dev/null; then
	printf '%s' "$js" | python3 -c 'import json,sys; json.load(sys.stdin)' || fail "status --json is not valid JSON"
fi

# run -v printed the same lines in the foreground.
expect_match "$(cat "$T/fg")" '^counter #1 call from pid [0-9]+: incr  Output: ok  New state: \{"n":1\}$' "run -v"
expect_match "$(cat "$T/fg")" 'counter #6 call from pid [0-9]+: count  Output: 4  New state: \{"old":4,"n":4\}' "run -v after the upgrade"
kill $TR3 2>/dev/null || true
