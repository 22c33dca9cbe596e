# t-max-input.sh: run --max-input caps inputs: a larger one is refused
# with an error and not applied, the machine goes on; a frame larger than
# any request may be drops its client; bad values are usage errors.
. "$(dirname "$0")/lib.sh"

use examples/kv-v1 kv
status_of 2 "$S" run --max-input 100 kv
expect_match "$(cat "$T/err")" "bad value '100' for --max-input" "too small a cap"
status_of 2 "$S" run --max-input 17M kv
start --max-input 2K kv
big=$(head -c 3000 /dev/zero | tr '\0' x)
status_of 1 "$S" call kv "put big $big"
expect_match "$(cat "$T/err")" 'input of 3008 bytes is larger than the cap of 2048 \(--max-input\)' "larger input refused"
expect "$("$S" call kv "put small $(head -c 1500 /dev/zero | tr '\0' y)")" ok "smaller input taken"
status_of 1 "$S" call kv "get big"
expect_match "$(cat "$T/err")" 'no such key: big' "the refused input was not applied"
# A frame beyond any request's size: the client is dropped, others go on.
big=$(head -c 20000 /dev/zero | tr '\0' x)
status_of 1 "$S" call kv "put huge $big"
expect_match "$(cat "$T/log")" 'client sent a bad frame \(frame larger than the size cap\): dropped' "logged"
expect "$("$S" call kv "get small" | head -c 3)" yyy "still serving"
