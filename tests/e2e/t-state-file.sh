# t-state-file.sh (issue 13): `smsup state --file` prints an image offline
# as `smsup state` prints the machine: one from `state --raw`, from
# `--sm-migrate`, a snapshot file of the state directory (its checksum
# checked), standard input; a bad file is an error that says why.
. "$(dirname "$0")/lib.sh"

use examples/employee-v1 employee
use examples/employee-v2 employee-v2
start --snapshot-inputs 1 --init-arg "blackode 30000" blackode=./employee
"$S" call blackode add 30000 >/dev/null
want=$("$S" state blackode)
expect "$want" '{"name":"blackode","money":60000}' "the machine's state"
"$S" state --raw blackode >"$T/v1.img"
expect "$("$S" state --file "$T/v1.img" --fields name,money)" "$want" "an image from state --raw"
expect "$("$S" state --file "$T/v1.img")" '{"0":"blackode","1":60000}' "without field names"
expect "$("$S" state --file - --fields name,money <"$T/v1.img")" "$want" "standard input"
"$T/employee-v2" --sm-migrate <"$T/v1.img" >"$T/v2.img"
expect "$("$S" state --file "$T/v2.img" --fields name,salary)" '{"name":"blackode","salary":60000}' "an image from --sm-migrate"
# The snapshot the supervisor wrote after that input.
for _ in $(seq 100); do
	snap=$(newest blackode snapshot)
	[ -n "$snap" ] && "$S" state --file "$snap" --fields name,money 2>/dev/null |
		grep -qx "$want" && break
	sleep 0.05
done
expect "$("$S" state --file "$snap" --fields name,money)" "$want" "a snapshot file"
"$S" state --raw --file "$snap" | cmp -s - "$T/v1.img" || fail "--raw of a snapshot file is not its image"

# Bad files: said, exit 1.
cp "$snap" "$T/bad.snap"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-3] ^= 0xff; open(sys.argv[1], "wb").write(b)' "$T/bad.snap"
status_of 1 "$S" state --file "$T/bad.snap"
expect_match "$(cat "$T/err")" "bad.snap: a bad snapshot file: snapshot checksum mismatch" "a corrupt snapshot"
head -c 30 "$T/v1.img" >"$T/short.img"
status_of 1 "$S" state --file "$T/short.img"
expect_match "$(cat "$T/err")" "short.img: a bad state image: " "a truncated image"
printf 'not an image' >"$T/junk"
status_of 1 "$S" state --file "$T/junk"
expect_match "$(cat "$T/err")" "junk: a bad state image" "garbage"
# A stream is judged by its first bytes, not read to its end.
status_of 1 sh -c "head -c 100000000 /dev/zero | '$S' state --file -"
expect_match "$(cat "$T/err")" "not a state image nor a snapshot file" "a stream of zeros"
status_of 1 timeout 10 "$S" state --file /dev/urandom
status_of 1 "$S" state --file "$T/none"
expect_match "$(cat "$T/err")" "none: No such file or directory" "a missing file"
status_of 2 "$S" state --file "$T/v1.img" blackode
status_of 2 "$S" state --fields name blackode
status_of 2 "$S" state --file "$T/v1.img" --fields 'a b'
