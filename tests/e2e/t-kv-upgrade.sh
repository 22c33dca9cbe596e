# t-kv-upgrade.sh: variable-size state (strings in a tpl array) migrates
# to a new layout: kv v1 -> v2 adds a write count per key.
. "$(dirname "$0")/lib.sh"

use examples/kv-v1 kv
use examples/kv-v2 kv2
start kv
expect "$("$S" call kv put greeting hello, wide world)" ok put
expect "$("$S" call kv put answer 42)" ok put
expect "$("$S" call kv put answer 43)" ok "put again"
expect "$("$S" call kv put gone soon)" ok put
expect "$("$S" call kv del gone)" ok del
expect "$("$S" call kv size)" 2 size
status_of 1 "$S" call kv get gone
expect "$(cat "$T/err")" "smsup: no such key: gone" "missing key"

# A value of 100 KiB goes through too.
big=$(head -c 102400 /dev/zero | tr '\0' x)
expect "$("$S" call kv put big "$big")" ok "big put"

"$S" upgrade kv=kv2 >/dev/null
expect "$(col kv 2)" 2 version
expect "$("$S" call kv get greeting)" "hello, wide world" "get after upgrade"
expect "$("$S" call kv get answer)" 43 "get after upgrade"
expect "$("$S" call kv get big)" "$big" "big value after upgrade"
expect "$("$S" call kv writes answer)" 1 "writes after migration"
expect "$("$S" call kv put answer 44)" ok put
expect "$("$S" call kv writes answer)" 2 "writes after a put"
expect "$("$S" call kv size)" 3 size

# The offline entry points agree with the supervisor: --sm-info, and
# --sm-migrate refusing what it cannot read.
expect "$("$T/kv2" --sm-info)" '{"name":"kv","version":"2","format":"A(S(ssu))","migrates_from":["1"],"fields":"(key,value,version)"}' sm-info
echo garbage >"$T/garbage"
status_of 1 sh -c "'$T/kv2' --sm-migrate <'$T/garbage' >'$T/new.img'"
expect_match "$(cat "$T/err")" 'not a state image' "--sm-migrate error"
