# t-supervise-policies.sh: a machine that crashes on one input answers it
# with an error and goes on with its state; one that keeps crashing ends
# failed (restart intensity) until it is run again; the restart policies
# permanent, transient and temporary.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
start --max-restarts 3/10 faulty
for _ in 1 2 3; do "$S" call faulty incr >/dev/null; done

# The input it dies in gets the error; the state is intact.
status_of 1 "$S" call faulty boom
expect_match "$(cat "$T/err")" '^smsup: machine faulty crashed applying this input \(killed by signal 6 \(Aborted\)\); it was not applied$' "crash error"
expect "$("$S" call faulty incr)" ok "serving after the crash"
expect_count faulty 4
grep -q 'faulty: worker (pid [0-9]*) killed by signal 6' "$T/log" || fail "crash not logged"

# Crashing again and again: the third restart in 10s is the last.
"$S" call faulty boom 2>/dev/null || true
"$S" call faulty boom 2>/dev/null || true
status_of 1 "$S" call faulty boom
wait_state faulty failed
expect_match "$("$S" status faulty)" 'faulty: failed: restarted 3 times in 10s; last: worker' "intensity"
status_of 1 "$S" call faulty incr
expect_match "$(cat "$T/err")" 'machine faulty is failed' "calls to a failed machine"
# Run (or restart) brings it back, with its state.
expect_match "$("$S" restart faulty)" 'running version 1' restart
expect_count faulty 4

# Policies: a clean exit is restarted by permanent (the default) ...
"$S" call faulty exit 2>/dev/null || true
wait_state faulty running
expect_count faulty 4
"$S" stop faulty >/dev/null
# ... not by transient, which restarts crashes only ...
"$S" run --restart transient faulty >/dev/null
"$S" call faulty boom 2>/dev/null || true
wait_state faulty running
"$S" call faulty exit 2>/dev/null || true
wait_state faulty failed
expect_match "$("$S" status faulty)" 'restart policy transient: not restarted' transient
"$S" stop faulty >/dev/null
# ... and temporary restarts nothing.
"$S" run --restart temporary faulty >/dev/null
"$S" call faulty boom 2>/dev/null || true
wait_state faulty failed
expect_match "$("$S" status faulty)" 'restart policy temporary: not restarted' temporary
expect_match "$("$S" run faulty)" 'running version 1' "run brings it back"
expect_count faulty 4
