# t-fault-journal-header.sh (issue 11, item 3): a journal whose header
# cannot be read (empty, bad magic, garbage; in the layout of this
# version or the one before) is never appended to: it is moved aside,
# named in the log and in status, and a new journal is written. Inputs
# acknowledged afterwards survive a SIGKILL of the supervisor.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
n=0
for file in journal journal.0; do
	for kind in empty magic garbage; do
		n=$((n + 1))
		rm -rf "$T/state/faulty"
		mkdir -p "$T/state/faulty"
		chmod 700 "$T/state" "$T/state/faulty"
		case $kind in
		empty) : >"$T/state/faulty/$file" ;;
		magic) printf 'NOTAJOURNAL!garbage after it' >"$T/state/faulty/$file" ;;
		garbage) head -c 4096 /dev/urandom >"$T/state/faulty/$file" ;;
		esac
		start --durability always faulty
		expect_match "$(cat "$T/log")" "faulty: $file: (empty file|bad magic|file too short|unknown format version): moved aside to $file\\.bad-" "$file $kind: moved aside"
		aside=$(ls "$T/state/faulty" | grep "^$file\\.bad-" | head -1)
		[ -n "$aside" ] || fail "$file $kind: nothing kept aside"
		expect_match "$("$S" status)" "faulty: state directory: $file: .*moved aside to $aside" "$file $kind: status"
		seq 500 | sed 's/.*/incr/' | "$S" send -l faulty || fail "$file $kind: sends refused"
		kill -KILL "$SUP"
		wait "$SUP" 2>/dev/null || true
		pkill -KILL -f "$T/faulty" || true
		: >"$T/log"
		start --durability always faulty
		expect_count faulty 500
		"$S" shutdown
		wait "$SUP"
	done
done
echo "$n bad journals: each moved aside, 500 of 500 acknowledged inputs after a SIGKILL"
