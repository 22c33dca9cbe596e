# t-matrix-image-cap.sh: a state image larger than the machine's cap
# (run --max-image) is refused and the old worker resumes. Under load.
. "$(dirname "$0")/lib.sh"

use examples/kv-v1 kv
use examples/kv-v2 kv2
start --max-image 4K kv
pid=$(col kv 3)
for i in $(seq 15); do "$S" call kv put key$i "$(head -c 300 /dev/zero | tr '\0' v)" >/dev/null; done
# Load on the kv: puts of one key.
awk 'BEGIN { for (i = 1; i <= 2000; i++) { print "put load " i; if (i % 100 == 0) { fflush(); system("sleep 0.01") } } }' |
	"$S" call -l kv >"$T/load.out" 2>"$T/load.err" &
load=$!
status_of 1 "$S" upgrade kv=kv2
expect_match "$(cat "$T/err")" 'could not serialize its state: state image of [0-9]+ bytes exceeds the cap of 4096; version 1 keeps serving' refusal
expect_kept kv 1 "$pid"
wait $load || fail "load: $(head -3 "$T/load.err")"
expect "$(grep -c '^ok$' "$T/load.out")" 2000 "load answers"
expect "$("$S" call kv get load)" 2000 "last put"
expect "$("$S" call kv size)" 16 size
# Below the cap it goes through.
for i in $(seq 15); do "$S" call kv del key$i >/dev/null; done
expect_match "$("$S" upgrade kv=kv2)" 'upgraded 1 -> 2' "upgrade under the cap"
