# t-install.sh: `make install` (staged in DESTDIR for PREFIX=/usr, then
# into a private prefix after a build for another) gives the smsup binary,
# the worker library (static, and shared: libsmsup-worker.so.1.0.0 with its
# soname link), the header, a pkg-config file of that prefix and the man
# pages; a machine outside the tree builds with
# `cc counter.c $(pkg-config --cflags --libs smsup-worker)` and runs under
# the installed smsup; `make uninstall` removes it all.
. "$(dirname "$0")/lib.sh"

R="$T/root"
P=/usr
make -s -C "$SRC" O="$B" DESTDIR="$R" PREFIX="$P" install >"$T/install.out" 2>&1 ||
	fail "make install: $(tail -5 "$T/install.out")"
for f in bin/smsup lib/libsmsup-worker.a lib/libsmsup-worker.so \
    lib/libsmsup-worker.so.1 include/smsup/worker.h \
    lib/libsmsup-client.a lib/libsmsup-client.so lib/libsmsup-client.so.1 \
    include/smsup/client.h lib/pkgconfig/smsup-client.pc \
    share/man/man3/smsup-client.3 \
    lib/pkgconfig/smsup-worker.pc share/man/man1/smsup.1 \
    share/man/man3/smsup-worker.3 share/man/man5/smsup.conf.5 \
    share/man/man7/smsup-protocol.7 lib/systemd/system/smsup.service \
    share/bash-completion/completions/smsup; do
	[ -e "$R$P/$f" ] || fail "not installed: $f"
done
expect "$(readlink "$R$P/lib/libsmsup-worker.so.1")" libsmsup-worker.so.1.0.0 soname link
expect "$(sed -n 's/^prefix=//p' "$R$P/lib/pkgconfig/smsup-worker.pc")" /usr "pkg-config prefix"
grep -q rpath "$R$P/lib/pkgconfig/smsup-worker.pc" && fail "an rpath for /usr"
expect_match "$(cat "$R$P/lib/systemd/system/smsup.service")" "^ExecStart=$P/bin/smsup -S /run/smsup/control.sock run -c /etc/smsup.conf" "unit paths"
# The unit is valid (only its staged binary and man pages are not in place).
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$R$P/lib/systemd/system/smsup.service" 2>"$T/verify" || true
	if grep -v -e 'is not executable' -e "Command 'man " "$T/verify" | grep -q .; then
		fail "systemd-analyze verify: $(cat "$T/verify")"
	fi
fi
# Bash completion: commands, and machine names from the supervisor.
if [ -r /usr/share/bash-completion/bash_completion ]; then
	out=$(bash -c '. /usr/share/bash-completion/bash_completion
		. "$1/share/bash-completion/completions/smsup"
		COMP_WORDS=(smsup st); COMP_CWORD=1; COMP_LINE="smsup st"; COMP_POINT=8
		_smsup; echo "${COMPREPLY[*]}"' _ "$R$P")
	expect "$out" "status state stop" "completion of commands"
fi

# Out of the tree: the counter of smsup-worker(3), built with pkg-config.
cp "$SRC/examples/counter/counter-v2.c" "$T/counter.c"
export PKG_CONFIG_PATH="$R$P/lib/pkgconfig"
flags=$(pkg-config --define-variable=prefix="$R$P" --cflags --libs smsup-worker) ||
	fail "pkg-config does not know smsup-worker"
# (Under make asan the library is instrumented: so must the program be.)
san=
nm "$R$P/lib/libsmsup-worker.a" 2>/dev/null | grep -q __asan_ &&
	san="-fsanitize=address,undefined"
cc $san -o "$T/counter" "$T/counter.c" $flags || fail "out-of-tree build"
export LD_LIBRARY_PATH="$R$P/lib"
# Workers get a small environment: this one is passed on purpose.
export SMSUP_WORKER_ENV=LD_LIBRARY_PATH
ldd "$T/counter" | grep -q "libsmsup-worker.so.1 => $R$P/lib/" ||
	fail "not linked to the installed library: $(ldd "$T/counter")"
expect "$("$T/counter" --sm-info)" '{"name":"counter","version":"2","format":"S(ii)","migrates_from":["1"],"fields":"old,n"}' sm-info

# The installed smsup runs it.
S="$R$P/bin/smsup"
start counter
expect "$("$S" call counter incr)" ok "call to the out-of-tree machine"
expect "$("$S" call counter count)" 1 count
# And a program that calls it, with the client library.
cp "$SRC/examples/client/pipeline.c" "$T/pipeline.c"
cflags=$(pkg-config --define-variable=prefix="$R$P" --cflags --libs smsup-client) ||
	fail "pkg-config does not know smsup-client"
cc $san -o "$T/pipeline" "$T/pipeline.c" $cflags || fail "out-of-tree client build"
ldd "$T/pipeline" | grep -q "libsmsup-client.so.1 => $R$P/lib/" ||
	fail "not linked to the installed client library: $(ldd "$T/pipeline")"
expect "$("$T/pipeline" -n 100 counter incr)" "100 ok, 0 errors, 0 timed out, 0 lost; last: ok" "the out-of-tree client"
if [ -r /usr/share/bash-completion/bash_completion ]; then
	out=$(PATH="$R$P/bin:$PATH" bash -c '. /usr/share/bash-completion/bash_completion
		. "$1/share/bash-completion/completions/smsup"
		COMP_WORDS=(smsup call c); COMP_CWORD=2; COMP_LINE="smsup call c"; COMP_POINT=12
		_smsup; echo "${COMPREPLY[*]}"' _ "$R$P")
	expect "$out" counter "completion of machine names"
fi
"$S" shutdown
wait "$SUP"
SUP=

make -s -C "$SRC" O="$B" DESTDIR="$R" PREFIX="$P" uninstall >/dev/null 2>&1 ||
	fail "make uninstall"
left=$(find "$R" -type f | wc -l)
expect "$left" 0 "files left after uninstall"
unset PKG_CONFIG_PATH LD_LIBRARY_PATH SMSUP_WORKER_ENV

# A private prefix, into the tree already built for another one: the
# pkg-config file is the prefix's, and a machine built with it runs under
# the installed smsup with no LD_LIBRARY_PATH (workers get none anyway).
X="$T/prefix"
make -s -C "$SRC" O="$B" PREFIX="$X" install >"$T/install.out" 2>&1 ||
	fail "make install PREFIX=$X: $(tail -5 "$T/install.out")"
expect "$(sed -n 's/^prefix=//p' "$X/lib/pkgconfig/smsup-worker.pc")" "$X" "pkg-config prefix"
flags=$(PKG_CONFIG_PATH="$X/lib/pkgconfig" pkg-config --cflags --libs smsup-worker) ||
	fail "pkg-config does not know smsup-worker in $X"
rm -f "$T/counter"
cc $san -o "$T/counter" "$T/counter.c" $flags || fail "out-of-tree build in $X"
ldd "$T/counter" | grep -q "libsmsup-worker.so.1 => $X/lib/" ||
	fail "the private prefix's library not found: $(ldd "$T/counter")"
S="$X/bin/smsup"
start counter
expect "$("$S" call counter incr)" ok "call to the machine of a private prefix"
expect "$(col counter 2)" 2 "its version"
rm -f "$T/pipeline"
cc $san -o "$T/pipeline" "$T/pipeline.c" $(PKG_CONFIG_PATH="$X/lib/pkgconfig" pkg-config --cflags --libs smsup-client) ||
	fail "out-of-tree client build in $X"
expect "$("$T/pipeline" -n 10 counter incr)" "10 ok, 0 errors, 0 timed out, 0 lost; last: ok" "the client of a private prefix"
"$S" shutdown
wait "$SUP"
SUP=
make -s -C "$SRC" O="$B" PREFIX="$X" uninstall >/dev/null 2>&1 ||
	fail "make uninstall PREFIX=$X"
expect "$(find "$X" -type f | wc -l)" 0 "files left in $X after uninstall"
