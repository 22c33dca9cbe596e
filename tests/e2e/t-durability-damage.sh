# t-durability-damage.sh: a torn journal tail is cut at the last good
# record with a warning; a corrupt snapshot falls back to the older one
# loudly; both corrupt is refused with a clear error; a full disk (a file
# size limit) degrades persistence, shown by status, while the machine
# keeps serving from memory. Nothing here crashes the supervisor.
. "$(dirname "$0")/lib.sh"

use tests/faulty-v1 faulty

# flip FILE OFFSET: change one byte.
flip() {
	printf 'Z' | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# A torn tail: the last record loses its last 3 bytes.
start --snapshot-inputs 0 --snapshot-interval 0 faulty
for _ in 1 2 3 4 5; do "$S" call faulty incr >/dev/null; done
kill -KILL "$SUP"
wait "$SUP" 2>/dev/null || true
pkill -KILL -f "$T/faulty" || true
J=$(newest faulty journal)
size=$(wc -c <"$J")
truncate -s $((size - 3)) "$J"
start faulty
grep -q "faulty/journal\.[0-9]*: cut a torn or corrupt tail of [0-9]* bytes" "$T/log" || fail "torn tail not reported"
expect_count faulty 4
"$S" call faulty incr >/dev/null

# A corrupt snapshot: the older one and the journals since take over.
"$S" stop faulty >/dev/null
"$S" run --snapshot-inputs 2 faulty >/dev/null
for _ in 1 2 3 4 5 6; do "$S" call faulty incr >/dev/null; done
"$S" stop faulty >/dev/null
[ "$(ls "$T/state/faulty" | grep -c '^snapshot\.[0-9]*$')" -ge 2 ] || fail "no older snapshot kept: $(ls "$T/state/faulty")"
flip "$(newest faulty snapshot)" 40
"$S" run faulty >/dev/null
grep -q 'faulty/snapshot\.[0-9]*: snapshot checksum mismatch: not used' "$T/log" || fail "corrupt snapshot not reported"
grep -q 'faulty: the newest snapshot is not usable: using an older one and the journals since' "$T/log" || fail "fallback not reported"
expect_count faulty 11

# Both corrupt: refused, loudly, files left as they are.
"$S" stop faulty >/dev/null
for f in $(ls "$T/state/faulty" | grep '^snapshot\.[0-9]*$'); do
	flip "$T/state/faulty/$f" 40
done
before=$(ls "$T/state/faulty" | sort)
status_of 1 "$S" run faulty
expect_match "$(cat "$T/err")" 'snapshot\.[0-9]+: snapshot checksum mismatch; snapshot\.[0-9]+: snapshot checksum mismatch; no snapshot that the journals continue \(2 snapshots, 2 journals\); refusing to guess \(start afresh with --fresh\)' "both corrupt"
expect "$(ls "$T/state/faulty" | sort)" "$before" "files left alone"
"$S" run --fresh faulty >/dev/null
expect_count faulty 0
"$S" shutdown
wait "$SUP"

# A full disk: the journal cannot grow past 8 KiB.
(ulimit -f 16 && exec "$S" run --fresh --snapshot-inputs 0 --snapshot-interval 0 faulty) 2>>"$T/log" &
SUP=$!
wait_state faulty running
seq 2000 | sed 's/.*/incr/' | "$S" call -l faulty >"$T/out" || fail "inputs refused on a full disk"
expect "$(grep -c '^ok$' "$T/out")" 2000 "answers on a full disk"
expect_count faulty 2000
expect_match "$("$S" status)" 'faulty: persistence degraded: journal: File too large' "status shows it"
grep -q 'persistence degraded' "$T/log" || fail "degradation not logged"
kill -0 "$SUP" || fail "supervisor died"
