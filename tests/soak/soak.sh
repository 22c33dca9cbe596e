# soak.sh: 4 clients x SOAK_INPUTS inputs while SOAK_UPGRADES upgrades go
# up and down (v1 -> v2 -> v3 -> v2 -> v1 ...), one in five made to fail by
# a random fault of the matrix. At the end no input may be lost,
# duplicated or reordered per client, and the machine's totals are exact.
# Usage: BUILD=build sh tests/soak/soak.sh   (make soak)
. "$(dirname "$0")/../e2e/lib.sh"

N=${SOAK_INPUTS:-100000}
U=${SOAK_UPGRADES:-100}
for v in 1 2 3; do use tests/orderly-v$v orderly-v$v; done
printf '#!/bin/sh\nexit 0\n' >"$T/notworker"
chmod +x "$T/notworker"
start --upgrade-timeout 0.5 orderly="$T/orderly-v1"
began=$(date +%s.%N)

# Clients pace themselves to last through the upgrades.
for c in 0 1 2 3; do
	orderly_client $c "$N" 1000 0.05
done
alive() {
	kill -0 "$pid0" 2>/dev/null || kill -0 "$pid1" 2>/dev/null ||
	    kill -0 "$pid2" 2>/dev/null || kill -0 "$pid3" 2>/dev/null
}

cycle="2 3 2 1"
ok=0 failed=0 during=0 v=1 i=0 j=0 kinds=
while [ $i -lt "$U" ]; do
	# The next version of the cycle that is not the running one.
	while :; do
		set -- $cycle
		shift $((j % 4))
		next=$1
		[ "$next" != "$v" ] && break
		j=$((j + 1))
	done
	j=$((j + 1))
	fault=none
	if [ $((i % 5)) -eq 4 ]; then
		set -- fail crash hang exit notworker crashlater
		shift $(( $(od -An -N1 -tu1 /dev/urandom) % 6 ))
		fault=$1
		# A late crash needs inputs to strike at: only under load.
		[ "$fault" = crashlater ] && ! alive && fault=crash
	fi
	alive && during=$((during + 1))
	bin="$T/orderly-v$next" args=
	case $fault in
	none) ;;
	notworker) bin="$T/notworker" ;;
	crashlater) "$S" call orderly arm crashlater >/dev/null; args="-p 1" ;;
	*) "$S" call orderly arm $fault >/dev/null ;;
	esac
	if "$S" upgrade $args orderly="$bin" >"$T/up.out" 2>&1; then
		[ "$fault" = none ] || fail "upgrade $i with fault $fault succeeded: $(cat "$T/up.out")"
		ok=$((ok + 1))
		v=$next
	else
		[ "$fault" != none ] || fail "upgrade $i failed: $(cat "$T/up.out")"
		failed=$((failed + 1))
		kinds="$kinds $fault"
		"$S" call orderly arm none >/dev/null
	fi
	expect "$(col orderly 2)" "$v" "version after upgrade $i"
	i=$((i + 1))
done

errors=0 gaps=0
for c in 0 1 2 3; do
	eval "wait \$pid$c" || true
	lines=$(wc -l <"$T/c$c.out")
	e=$(grep -c 'crashed applying this input' "$T/c$c.err" || true)
	other=$(grep -v 'crashed applying this input' "$T/c$c.err" | grep -c . || true)
	expect "$other" 0 "client $c: other errors: $(head -3 "$T/c$c.err")"
	expect "$((lines + e))" "$N" "client $c: answers"
	# An input answered with the crash leaves a gap unless it was the last.
	g=$(sed -n 's/^smsup: line \([0-9]*\): .*/\1/p' "$T/c$c.err" |
	    awk -v n="$N" '$1 < n' | wc -l)
	errors=$((errors + e))
	gaps=$((gaps + g))
done
check=$("$S" call orderly check)
expect "$check" "$(printf 'total=%d violations=%d generation=%d last=%d,%d,%d,%d' \
    $((4 * N - errors)) "$gaps" "$ok" "$N" "$N" "$N" "$N")" check
elapsed=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $began }")
echo "soak: 4 clients x $N inputs, $U upgrades ($during under load): $ok" \
    "done, $failed failed on purpose ($(echo $kinds | tr ' ' '\n' | sort |
    uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }'))," \
    "$errors inputs answered with a crash error, 0 lost, 0 duplicated," \
    "0 reordered, ${elapsed}s"
