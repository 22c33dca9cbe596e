# t-fault-always-full.sh (issue 11, item 4): with --durability always an
# input is acknowledged only once it is on disk. Past a file size limit,
# and on a full file system (a 1 MiB tmpfs, as root), inputs the journal
# cannot take are refused with an error, never acknowledged; after a
# SIGKILL of the supervisor every acknowledged input is there, and no
# refused one is.
. "$(dirname "$0")/lib.sh"

use tests/ledger-v1 ledger

# check_ledger ERRFILE N: client 1 sent 1..N; the refused ones are the
# lines of ERRFILE. Every other one must be applied, no refused one.
check_ledger() {
	"$S" call ledger dump 1 >"$T/dump"
	python3 - "$1" "$2" "$T/dump" <<'PY' || fail "ledger check"
import re, sys
errs, n, dump = sys.argv[1], int(sys.argv[2]), open(sys.argv[3]).read()
refused = set(int(m) for m in re.findall(r'^smsup: line (\d+): ', open(errs).read(), re.M))
last = int(re.search(r'last=(\d+)', dump).group(1))
sk = re.search(r'skipped=([\d,]*)', dump).group(1)
skipped = set(int(x) for x in sk.split(',') if x)
applied = set(x for x in range(1, last + 1) if x not in skipped)
acked = set(range(1, n + 1)) - refused
lost = sorted(acked - applied)
ghost = sorted(refused & applied)
print("acknowledged %d, refused %d, applied %d, lost %d, refused but applied %d"
      % (len(acked), len(refused), len(applied), len(lost), len(ghost)))
if lost or ghost or not refused:
    print("lost:", lost[:10], "ghost:", ghost[:10])
    sys.exit(1)
PY
}

# A file size limit: the journal stops at 32 KiB.
(ulimit -f 64 && exec "$S" run --durability always --snapshot-inputs 0 \
    --snapshot-interval 0 ledger) 2>>"$T/log" &
SUP=$!
wait_state ledger running
seq 1 5000 | sed 's/^/1 /' | "$S" send -l ledger >/dev/null 2>"$T/fsize.err" || true
expect_match "$(head -1 "$T/fsize.err")" "could not make this input durable \\(journal: File too large\\); it was not accepted|cannot make inputs durable now" "refusal"
expect_match "$("$S" status)" 'ledger: persistence degraded: journal: File too large' "status"
kill -KILL "$SUP"
wait "$SUP" 2>/dev/null || true
pkill -KILL -f "$T/ledger" || true
start ledger
check_ledger "$T/fsize.err" 5000
"$S" shutdown
wait "$SUP"
SUP=

# A full file system.
if [ "$(id -u)" -ne 0 ]; then
	echo "t-fault-always-full: not root: the tmpfs part needs root" >&2
	exit 0
fi
mkdir "$T/small"
mount -t tmpfs -o size=1m,mode=0700 tmpfs "$T/small" || {
	echo "t-fault-always-full: cannot mount a tmpfs: skipped" >&2
	exit 0
}
unmount() {
	r=$?
	[ -z "$SUP" ] || kill -KILL "$SUP" 2>/dev/null || true
	pkill -KILL -f "$T/" 2>/dev/null || true
	for _ in $(seq 50); do
		umount "$T/small" 2>/dev/null && break
		sleep 0.1
	done
	mountpoint -q "$T/small" && umount -l "$T/small"
	(exit $r)
	cleanup
}
trap unmount EXIT INT TERM
export SMSUP_STATE_DIR="$T/small/state"
start --durability always --snapshot-inputs 0 --snapshot-interval 0 ledger
seq 1 40000 | sed 's/^/1 /' | "$S" send -l ledger >/dev/null 2>"$T/full.err" || true
expect_match "$(head -1 "$T/full.err")" "No space left on device" "refusal on a full disk"
kill -KILL "$SUP"
wait "$SUP" 2>/dev/null || true
pkill -KILL -f "$T/ledger" || true
start ledger
check_ledger "$T/full.err" 40000
