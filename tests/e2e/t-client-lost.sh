# t-client-lost.sh: a client streaming inputs (send -l, call -l) whose
# supervisor stops reading and is then SIGKILLed says so: "lost the supervisor after N answers",
# exit status 1, and the N answers it printed are the ones it got; it
# does not die of SIGPIPE with nothing said (make chaos: a send session
# cut so was taken as all acknowledged).
. "$(dirname "$0")/lib.sh"

use examples/counter-v1 counter
for kind in send call; do
	start counter
	awk 'BEGIN { for (i = 1; i <= 200000; i++) { print "incr"; if (i % 200 == 0) { fflush(); system("sleep 0.002") } } }' |
		"$S" $kind -l counter >"$T/$kind.out" 2>"$T/$kind.err" &
	client=$!
	sleep 0.5
	# Stopped first, so that the client has inputs it could not write yet.
	kill -STOP "$SUP"
	sleep 0.5
	kill -KILL "$SUP"
	gone "$SUP"
	pkill -KILL -f "$T/counter" 2>/dev/null || true
	set +e
	wait "$client"
	rc=$?
	set -e
	expect "$rc" 1 "$kind -l exit status after the supervisor died: $(tail -1 "$T/$kind.err")"
	expect_match "$(tail -1 "$T/$kind.err")" '^smsup: lost the supervisor after [0-9]+ answers; [0-9]+ inputs unanswered$' "$kind -l"
	n=$(sed -n 's/^smsup: lost the supervisor after \([0-9]*\) answers.*/\1/p' "$T/$kind.err")
	if [ "$kind" = call ]; then
		expect "$(wc -l <"$T/$kind.out" | tr -d ' ')" "$n" "call -l: answers printed"
	fi
	[ "$n" -gt 0 ] || fail "$kind -l: no answer before the kill"
	SUP=
done
