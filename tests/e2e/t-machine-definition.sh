# t-machine-definition.sh (issue 13): a machine whose format does not fit
# its state struct is refused at start and by --sm-info with a message that
# names both; a bad format says what is wrong in it; a worker that cannot
# start says why, and that reason reaches the caller, `status NAME`, the
# log and a refused upgrade.
. "$(dirname "$0")/lib.sh"

# mk NAME VERSION STRUCT FORMAT: a counter-like machine with that state.
mk() {
	cat >"$T/$1.c" <<C
#include <smsup/worker.h>
struct st { $3 };
static int init(void *s) { (void)s; return 0; }
static int step(void *s, const char *in, size_t len, struct smsup_output *o)
{ (void)s; (void)in; (void)len; return smsup_reply(o, "%d", 4); }
SMSUP_MACHINE(.name = "m", .version = "$2", .format = "$4",
    .state_size = sizeof(struct st), .init = init, .step = step);
C
	san=
	nm "$B/libsmsup-worker.a" 2>/dev/null | grep -q __asan_ &&
		san="-fsanitize=address,undefined"
	cc $san -I"$SRC/include" -o "$T/$1" "$T/$1.c" "$B/libsmsup-worker.a" \
	    -ltpl || fail "cannot build $1"
}

mk good 1 'int32_t a; int64_t b;' 'S(iI)'
mk narrow 2 'int32_t a; int64_t b;' 'S(ii)'
mk wide 2 'int64_t a;' 'S(III)'
mk hash 2 'char name[8];' 'S(c#8)'
mk scalar 2 'int64_t n;' 'i'

expect "$("$T/good" --sm-info | sed 's/.*"format":"\([^"]*\)".*/\1/')" 'S(iI)' "a format that fits"
for c in "narrow:format S\\(ii\\) maps a struct of 8 bytes \\(aligned to 4\\), but state_size is 16" \
    "wide:format S\\(III\\) maps a struct of 24 bytes \\(aligned to 8\\), but state_size is 8" \
    "scalar:format i maps a struct of 4 bytes \\(aligned to 4\\), but state_size is 8" \
    "hash:invalid tpl format S\\(c#8\\): '#' takes no length in the format: write S\\(c#\\)"; do
	bin=${c%%:*}
	status_of 70 "$T/$bin" --sm-info
	expect_match "$(cat "$T/err")" "bad machine definition: ${c#*:}" "$bin --sm-info"
done

# Started: each attempt fails with the worker's own reason, which the
# caller, status and the log all give.
start -q m=./narrow
status_of 1 "$S" call m x
expect_match "$(cat "$T/err")" 'its last words: ".*narrow: bad machine definition: format S\(ii\) maps a struct of 8 bytes' "the caller's error"
expect_match "$("$S" status m)" 'state_size is 16' "status NAME"
grep -q 'exited with status 70, its last words: ".*narrow: bad machine definition' "$T/log" ||
	fail "not logged"
"$S" stop m >/dev/null 2>&1 || true

# An upgrade to such a binary: refused with the reason, not "is it an
# smsup worker?", and the running version keeps serving.
"$S" run m=./good >/dev/null 2>&1 || fail "run good"
expect "$("$S" call m x)" 4 "the good machine"
status_of 1 "$S" upgrade m=./wide
expect_match "$(cat "$T/err")" 'exited with status 70, its last words: ".*wide: bad machine definition: format S\(III\) maps a struct of 24 bytes.*" before saying hello; version 1 keeps serving$' "the upgrade's error"
grep -q 'is it an smsup worker' "$T/err" && fail "a worker that said why is asked whether it is one"
expect "$("$S" call m x)" 4 "the machine after the refused upgrade"
