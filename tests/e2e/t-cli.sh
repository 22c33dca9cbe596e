# t-cli.sh: the command line: errors and exit statuses, run as a client of
# a running supervisor, send, stdin input, -l, stop, crash, shutdown.
. "$(dirname "$0")/lib.sh"

use examples/counter-v1 counter
use examples/kv-v1 kv

# No supervisor yet.
status_of 3 "$S" call counter incr
expect_match "$(cat "$T/err")" "^smsup: no supervisor on $T/control.sock" "no supervisor"
status_of 3 "$S" status
status_of 2 "$S" frobnicate
expect_match "$(cat "$T/err")" 'unknown command: frobnicate' "unknown command"
status_of 2 "$S" -Z status
status_of 2 "$S" call counter
status_of 2 "$S" upgrade -t 0 counter
status_of 2 "$S" call 'bad/name' incr
status_of 1 "$S" run nothere
expect_match "$(cat "$T/err")" "no executable 'nothere' in SMSUP_PATH" "missing binary"
status_of 2 "$S" run counter counter
status_of 2 "$S" run --max-restarts 33/1 counter
expect_match "$(cat "$T/err")" "bad value '33/1' for --max-restarts: at most 32 restarts" "intensity past 32"
expect "$("$S" -V)" "smsup 0.1.0" version
expect "$("$S" --version)" "smsup 0.1.0" "--version"
expect_match "$("$S" --help)" '^usage: smsup \[-hV\] \[-H ssh://\[user@\]host\[:port\]\] \[-S socket\] command \[args\]' "--help"
expect_match "$("$S" --help)" 'smsup upgrade \[-fnw\] \[-t seconds\] \[-p seconds\] \[--extra TEXT\] NAME\[=PATH\] \.\.\.' "--help lists the commands"
expect "$("$S" upgrade --help)" "usage: smsup upgrade [-fnw] [-t seconds] [-p seconds] [--extra TEXT] NAME[=PATH] ..." "command --help"

# A supervisor in the background (-d), machines added by later runs.
out=$("$S" run -d)
expect_match "$out" '^smsup: supervisor started \(pid [0-9]+\)' detach
SUP=$(echo "$out" | sed 's/.*pid \([0-9]*\).*/\1/')
expect "$("$S" run counter)" "counter: running version 1 (pid $(col counter 3))" "run as a client"
expect_match "$("$S" run counter)" 'already running' "run twice"
"$S" run kv >/dev/null
expect "$("$S" status | wc -l)" 3 "two machines"
status_of 1 "$S" run counter=kv
expect_match "$(cat "$T/err")" 'counter already runs' "run with another path"
status_of 1 "$S" run -d
expect_match "$(cat "$T/err")" 'already runs' "second supervisor"

# Inputs: send, stdin, -l with an error in the middle.
"$S" send counter incr
printf 'incr' | "$S" call counter - >/dev/null
printf 'incr\nbogus\nincr\ncount\n' | "$S" call -l counter >"$T/l.out" 2>"$T/l.err" &&
	fail "-l with an error exited 0"
expect "$(cat "$T/l.out" | tr '\n' ' ')" "ok ok 4 " "-l outputs in order"
expect_match "$(cat "$T/l.err")" "^smsup: line 2: unknown input 'bogus'" "-l error"
status_of 1 "$S" call counter bogus
status_of 1 "$S" call nope incr
expect "$(cat "$T/err")" "smsup: no such machine: nope" "unknown machine"
status_of 1 "$S" status nope
printf '%s\n' incr incr incr | "$S" send -l counter
expect "$("$S" call counter count)" 7 "count after send -l"

# A crash restarts the machine from its snapshot and journal.
kill -KILL "$(col counter 3)"
wait_state counter running
expect "$("$S" call counter count)" 7 "count after a crash"
expect_match "$("$S" status counter)" 'restarts +1 \(policy permanent\), last: worker \(pid [0-9]+\) killed by signal 9' "status after a crash"

# stop, then shutdown waits for the supervisor to exit.
expect "$("$S" stop kv)" stopped stop
status_of 1 "$S" call kv size
expect "$("$S" status | wc -l)" 2 "one machine left"
"$S" shutdown
gone "$SUP"
[ -e "$T/control.sock" ] && fail "socket left behind"
status_of 3 "$S" status
SUP=
