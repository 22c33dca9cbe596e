# t-matrix-same-version.sh: a new binary of the running version is nothing
# to do: said so, exit 0, no error for SIGHUP; -f (--force) migrates
# anyway, through the version's own load path. Under load.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty
start faulty
pid=$(col faulty 3)
load_start faulty 3000
expect "$("$S" upgrade faulty)" "faulty: already at version 1" "upgrade to the same version"
kill -HUP "$SUP"
sleep 0.2
expect "$(col faulty 3)" "$pid" "pid after SIGHUP with the same binary"
grep -q 'warning' "$T/log" && fail "SIGHUP with the same version logged a warning"
out=$("$S" upgrade --force faulty)
expect_match "$out" '^faulty: upgraded 1 -> 1 ' forced
[ "$(col faulty 3)" != "$pid" ] || fail "forced upgrade kept the old worker"
load_wait
expect_count faulty 3000
expect "$(col faulty 8)" 1 upgrades
