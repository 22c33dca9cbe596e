# t-bad-frames.sh: malformed, unknown, oversized and random frames on the
# control socket get an error answer and a closed connection; the
# supervisor keeps serving and loses nothing.
. "$(dirname "$0")/lib.sh"

use examples/counter-v1 counter
start counter
R="$B/tests/rawframe"

# frame TYPE ID PAYLOAD-FILE [VERSION [LEN]]: one frame's bytes on stdout
# (payloads live in files: shell variables cannot hold NUL bytes).
frame() {
	perl -e '
		my ($type, $id, $f, $v, $len) = @ARGV;
		open(my $fh, "<", $f) or die; binmode $fh;
		local $/; my $p = <$fh> // "";
		$v = 1 unless defined $v;
		$len = length($p) unless defined $len;
		print pack("V C C v Q<", $len, $v, $type, 0, $id), $p;
	' "$@"
}
# A CALL payload for counter incr: two length-prefixed strings.
perl -e 'print pack("V/a* V/a*", "counter", "incr")' >"$T/incr"
incr="$T/incr"
: >"$T/empty"
printf xyz >"$T/xyz"

# A good call first, then an unknown request type in the same write: the
# call is still answered (answers carry their request's id, in any order)
# before the connection closes.
out=$({ frame 64 1 "$incr"; frame 127 2 "$T/empty"; } | "$R" "$SMSUP_SOCKET")
expect "$(echo "$out" | sort | tr '\n' '|')" "ERROR 2: unknown request type 0x7f|OUTPUT 1: ok|closed|" "unknown type"

# A CALL whose payload is not two strings.
out=$(frame 64 3 "$T/xyz" | "$R" "$SMSUP_SOCKET")
expect "$out" "$(printf 'ERROR 3: malformed CALL request\nclosed')" "malformed CALL"

# Another protocol version.
out=$(frame 64 4 "$incr" 9 | "$R" "$SMSUP_SOCKET")
expect "$out" "$(printf 'ERROR 0: protocol version mismatch\nclosed')" version

# A length of 4 GiB - 1, refused from the header alone.
out=$(frame 64 5 "$T/empty" 1 4294967295 | "$R" "$SMSUP_SOCKET")
expect "$out" "$(printf 'ERROR 0: frame larger than the size cap\nclosed')" oversized

# Half a frame, then the client goes away.
frame 64 6 "$incr" | head -c 20 | "$R" "$SMSUP_SOCKET" >/dev/null

# Random bytes, 50 times; the supervisor must survive each.
for i in $(seq 50); do
	head -c $((i * 37)) /dev/urandom | "$R" "$SMSUP_SOCKET" >/dev/null
done

# An input of more than 16 MiB from the command line is refused by the
# client; the machine still serves, with exactly the one good incr.
head -c 17000000 /dev/zero | tr '\0' x >"$T/big"
status_of 1 sh -c "'$S' call counter - <'$T/big'"
expect_match "$(cat "$T/err")" 'larger than the cap' "oversized input"
kill -0 "$SUP" || fail "supervisor died"
expect "$("$S" call counter count)" 1 "count after the bad frames"
grep -q 'dropped' "$T/log" || fail "drops not logged"
