# smsup: a supervisor for hot-swappable state machines.
#
#   make          build everything into build/
#   make demo     run the counter session of the seeds, step by step
#   make check    every test: unit (criterion) and end to end
#   make soak     4 clients x 100,000 inputs under 100 upgrades, 1 in 5 failing
#   make chaos    random faults from a seed, every input checked (CHAOS_SECONDS,
#                 CHAOS_SEED)
#   make bench    smsup against raw baselines (bench-quick: the short run)
#   make install [PREFIX=/usr/local] [DESTDIR=...] | uninstall
#   make asan     unit and end-to-end tests under ASan and UBSan
#   make valgrind the supervisor under memcheck; make fuzz [FUZZ_SECONDS=N]
#   make unit | e2e | lint | clean
#
# `make demo` and `make check` install missing Debian packages first.

CC	?= cc
O	?= build
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	   -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith \
	   -Wno-format-truncation -Iserialize -Iinclude -MMD -MP $(SAN)
LDFLAGS	+= $(SAN)
# (snprintf truncating a human-readable message is intended: that is why
# it is snprintf.)
LDLIBS_SUP	= -lev -lraft -luv -pthread
LDLIBS_WORKER	= -ltpl
JOBS	?= 2
V	?= 0
Q	= $(if $(filter 1,$(V)),,@)

SER_SRC	= serialize/buf.c serialize/frame.c serialize/msg.c serialize/image.c \
	  serialize/json.c serialize/tpljson.c \
	  serialize/crc32c.c serialize/journal.c serialize/fdpass.c
WRK_SRC	= worker/main.c worker/serve.c worker/state.c worker/chan.c \
	  worker/reply.c
SUP_SRC	= $(wildcard supervisor/*.c)
# The raft glue alone (its FSM and a node's raft thread), for its tests.
CLU_SRC	= supervisor/cluster-fsm.c supervisor/cluster-node.c
CLI_SRC	= client/conn.c
# What the client library takes of the codec.
CLI_SER	= serialize/buf.c serialize/frame.c serialize/msg.c serialize/image.c

SER_OBJ	= $(SER_SRC:%.c=$(O)/%.o)
WRK_OBJ	= $(WRK_SRC:%.c=$(O)/%.o)
SUP_OBJ	= $(SUP_SRC:%.c=$(O)/%.o)
CLI_OBJ	= $(CLI_SRC:%.c=$(O)/%.o)
# The supervisor's objects but its main(), for unit tests.
SUP_LIB	= $(filter-out $(O)/supervisor/main.o,$(SUP_OBJ)) $(CLI_OBJ)

WORKER_LIB = $(O)/libsmsup-worker.a
CLIENT_LIB = $(O)/libsmsup-client.a
CLIENT_SO = $(O)/libsmsup-client.so.1
CLIENT_SOFILE = libsmsup-client.so.1.0.0
SOVERSION = 1
VERSION	= 0.1.0
WORKER_SO = $(O)/libsmsup-worker.so.$(SOVERSION)
# The installed file: libsmsup-worker.so.1.0.0, with the links .so.1 (its
# soname) and .so.
SOFILE	= libsmsup-worker.so.$(SOVERSION).0.0
PREFIX	?= /usr/local
DESTDIR	?=
EXAMPLES = $(O)/examples/counter-v1 $(O)/examples/counter-v2 \
	   $(O)/examples/counter-v3 \
	   $(O)/examples/kv-v1 $(O)/examples/kv-v2 \
	   $(O)/examples/employee-v1 $(O)/examples/employee-v2
TEST_MACHINES = $(patsubst %,$(O)/tests/orderly-v%,1 2 3 4 5) \
	   $(patsubst %,$(O)/tests/faulty-v%,1 2 3) \
	   $(patsubst %,$(O)/tests/ledger-v%,1 2 3)
UNIT_SRC = $(wildcard tests/unit/*-*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(O)/tests/unit/%)

TEST_TOOLS = $(O)/tests/rawframe $(O)/tests/notifyd $(O)/tests/dirsync.so \
	   $(O)/tests/client-ev

all: $(O)/smsup $(WORKER_LIB) $(WORKER_SO) $(CLIENT_LIB) $(CLIENT_SO) \
	$(O)/examples/client-pipeline $(EXAMPLES) \
	$(TEST_MACHINES) $(TEST_TOOLS) $(O)/bench/blob-v1 $(O)/bench/blob-v2

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(O)/smsup: $(SUP_OBJ) $(CLI_OBJ) $(SER_OBJ)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_SUP)

# The client library (smsup/client.h): static, and shared exporting only
# smsup_client_* (client/smsup-client.map).
# The static one is a single object whose only globals are smsup_client_*,
# so that the codec's names (buf_add, ...) cannot clash with a program's.
$(CLIENT_LIB): $(CLI_OBJ) $(CLI_SER:%.c=$(O)/%.o)
	@rm -f $@ $(O)/client/libsmsup-client.o
	@echo "  AR    $@"
	$(Q)$(LD) -r -o $(O)/client/libsmsup-client.o $^
	$(Q)objcopy -w --keep-global-symbol='smsup_client_*' \
	    $(O)/client/libsmsup-client.o
	$(Q)$(AR) rcs $@ $(O)/client/libsmsup-client.o

$(CLIENT_SO): $(CLI_SRC:%.c=$(O)/pic/%.o) $(CLI_SER:%.c=$(O)/pic/%.o) client/smsup-client.map
	@$(if $(filter 1,$(V)),:,echo "  LD    $@")
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,libsmsup-client.so.1 \
	    -Wl,--version-script=client/smsup-client.map -o $@ \
	    $(filter %.o,$^)

$(O)/examples/client-pipeline: examples/client/pipeline.c $(CLIENT_LIB)
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -MF $(@D)/.$(@F).d -o $@ $< $(CLIENT_LIB)

$(WORKER_LIB): $(WRK_OBJ) $(SER_OBJ)
	@rm -f $@
	@echo "  AR    $@"
	$(Q)$(AR) rcs $@ $^

# The shared library: position-independent objects of its own, and only
# main() and smsup_* exported (worker/smsup-worker.map).
$(O)/pic/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -fPIC -c $< -o $@

$(WORKER_SO): $(WRK_SRC:%.c=$(O)/pic/%.o) $(SER_SRC:%.c=$(O)/pic/%.o) worker/smsup-worker.map
	@$(if $(filter 1,$(V)),:,echo "  LD    $@")
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,libsmsup-worker.so.$(SOVERSION) \
	    -Wl,--version-script=worker/smsup-worker.map -o $@ \
	    $(filter %.o,$^) $(LDLIBS_WORKER)

$(O)/examples/counter-%: $(O)/examples/counter/counter-%.o $(WORKER_LIB)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_WORKER)

$(O)/examples/employee-%: $(O)/examples/employee/employee-%.o $(WORKER_LIB)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_WORKER)

$(O)/examples/kv-%: $(O)/examples/kv/kv-%.o $(O)/examples/kv/kvmap.o $(WORKER_LIB)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_WORKER)

$(O)/tests/orderly-v%: tests/machines/orderly.c tests/machines/fault.h $(WORKER_LIB)
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -MF $(@D)/.$(@F).d -DORDERLY_VERSION=$* -o $@ $< $(WORKER_LIB) $(LDLIBS_WORKER)

$(O)/tests/faulty-v%: tests/machines/faulty.c tests/machines/fault.h $(WORKER_LIB)
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -MF $(@D)/.$(@F).d -DFAULTY_VERSION=$* -o $@ $< $(WORKER_LIB) $(LDLIBS_WORKER)

$(O)/tests/ledger-v%: tests/machines/ledger.c tests/machines/fault.h $(WORKER_LIB)
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -MF $(@D)/.$(@F).d -DLEDGER_VERSION=$* -o $@ $< $(WORKER_LIB) $(LDLIBS_WORKER)

$(O)/tests/notifyd: tests/tools/notifyd.c
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -MF $(@D)/.$(@F).d -o $@ $<

$(O)/tests/dirsync.so: tests/tools/dirsync.c
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -fPIC -shared -MF $(@D)/.$(@F).d -o $@ $< -ldl

$(O)/tests/client-ev: tests/tools/client-ev.c $(CLIENT_LIB)
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -MF $(@D)/.$(@F).d -o $@ $^ -lev

$(O)/tests/rawframe: tests/tools/rawframe.c $(SER_OBJ)
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -MF $(@D)/.$(@F).d -o $@ $^

# Unit tests link what they test: ser-* the codec, wrk-* the worker
# library (they define their own machine), sup-* the supervisor's logic.
WRK_LIB_OBJ = $(filter-out $(O)/worker/main.o,$(WRK_OBJ))
$(O)/tests/unit/ser-%: tests/unit/ser-%.c $(SER_OBJ)
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -MF $(@D)/.$(@F).d -o $@ $^ -lcriterion -ltpl

$(O)/tests/unit/wrk-%: tests/unit/wrk-%.c $(WRK_LIB_OBJ) $(SER_OBJ)
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -MF $(@D)/.$(@F).d -Iworker -o $@ $^ -lcriterion -ltpl

$(O)/tests/unit/clu-%: tests/unit/clu-%.c $(CLU_SRC:%.c=$(O)/%.o) $(SER_OBJ)
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -MF $(@D)/.$(@F).d -Isupervisor -o $@ $^ -lcriterion -lraft -luv -lev -pthread

$(O)/tests/unit/sup-%: tests/unit/sup-%.c $(SUP_LIB) $(SER_OBJ)
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -MF $(@D)/.$(@F).d -Isupervisor -o $@ $^ -lcriterion $(LDLIBS_SUP)

# What the end-to-end tests use besides the build: a real sshd for -H
# ssh://, bash-completion, python3 to validate JSON.
TEST_PKGS = openssh-client openssh-server bash-completion python3

deps:
	@sh tools/deps.sh

test-deps:
	@sh tools/deps.sh $(TEST_PKGS)

unit: deps
	$(MAKE) $(UNIT_BIN)
	@LC_ALL=C sh tests/unit/run.sh $(UNIT_BIN)

e2e: test-deps
	$(MAKE) all
	@LC_ALL=C sh tests/e2e/run.sh -j $(JOBS) $(O)

check: test-deps
	$(MAKE) all $(UNIT_BIN)
	@LC_ALL=C sh tests/unit/run.sh $(UNIT_BIN)
	@LC_ALL=C sh tests/e2e/run.sh -j $(JOBS) $(O)

# The soak: 4 x SOAK_INPUTS inputs under SOAK_UPGRADES upgrades, one in
# five failing on purpose. CI runs a shorter one.
SOAK_INPUTS ?= 100000
SOAK_UPGRADES ?= 100
soak: deps
	$(MAKE) all
	@BUILD=$(O) SOAK_INPUTS=$(SOAK_INPUTS) SOAK_UPGRADES=$(SOAK_UPGRADES) \
	    sh tests/soak/soak.sh

# The fault harness: ledger machines under random faults from a seed, every
# acknowledged input checked against what was applied (tests/chaos).
CHAOS_SECONDS ?= 120
CHAOS_SEED ?= 1
chaos: test-deps
	$(MAKE) all
	@python3 tests/chaos/chaos.py $(O) --seconds $(CHAOS_SECONDS) \
	    --seed $(CHAOS_SEED)

# The benchmarks: smsup against raw baselines of the same run (bench.c,
# big.c for large states, cluster.c for three nodes);
# `make bench-quick` is the short run CI does.
BENCH = $(O)/bench/bench $(O)/bench/blob-v1 $(O)/bench/blob-v2

$(O)/bench/bench: bench/bench.c bench/big.c bench/cluster.c $(SUP_LIB) $(SER_OBJ)
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -MF $(@D)/.$(@F).d -Isupervisor -o $@ $^ $(LDLIBS_SUP)

$(O)/bench/blob-v%: bench/machines/blob.c $(WORKER_LIB)
	@mkdir -p $(@D)
	@$(if $(filter 1,$(V)),:,echo "  CC    $@")
	$(Q)$(CC) $(CFLAGS) -MF $(@D)/.$(@F).d -DBLOB_VERSION=$* -o $@ $< $(WORKER_LIB) $(LDLIBS_WORKER)

bench: deps
	$(MAKE) all $(BENCH)
	@$(O)/bench/bench $(O)

bench-quick: deps
	$(MAKE) all $(BENCH)
	@$(O)/bench/bench --quick $(O)

demo: deps
	$(MAKE) all
	@sh examples/demo.sh $(O)

lint: deps
	@sh tools/deps.sh mandoc
	mandoc -Tlint -W warning man/*.[0-9]
	$(MAKE) clean all

# make fuzz [FUZZ_SECONDS=30]: each libFuzzer harness of fuzz/ (clang, with
# ASan and UBSan) for that long, from its seed corpus in fuzz/corpus/; what
# it finds goes to $(O)/fuzz/corpus/ and crashes to $(O)/fuzz/crash-*.
FUZZ_SECONDS ?= 30
FUZZ_PKGS = clang libclang-rt-dev
FUZZ_CFLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -Iserialize -Iinclude -Isupervisor \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_SER = frame image tpljson journal
FUZZ_SUP = control config
SUP_LIB_SRC = $(filter-out supervisor/main.c,$(SUP_SRC))

$(FUZZ_SER:%=$(O)/fuzz/%): $(O)/fuzz/%: fuzz/%.c $(SER_SRC)
	@mkdir -p $(@D)
	@echo "  FUZZ  $@"
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^

$(FUZZ_SUP:%=$(O)/fuzz/%): $(O)/fuzz/%: fuzz/%.c $(SER_SRC) $(SUP_LIB_SRC) $(CLI_SRC)
	@mkdir -p $(@D)
	@echo "  FUZZ  $@"
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS_SUP)

fuzz:
	@sh tools/deps.sh $(FUZZ_PKGS)
	$(MAKE) $(FUZZ_SER:%=$(O)/fuzz/%) $(FUZZ_SUP:%=$(O)/fuzz/%)
	@sh fuzz/run.sh $(O) $(FUZZ_SECONDS) $(FUZZ_SER) $(FUZZ_SUP)

# make asan: everything built with AddressSanitizer and UndefinedBehavior-
# Sanitizer into $(O)-asan, and the unit and end-to-end tests run on it.
ASAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
asan: test-deps
	$(MAKE) O=$(O)-asan SAN="$(ASAN_FLAGS)" all \
	    $(UNIT_BIN:$(O)/%=$(O)-asan/%)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 LC_ALL=C \
	    sh tests/unit/run.sh $(UNIT_BIN:$(O)/%=$(O)-asan/%)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 LC_ALL=C \
	    sh tests/e2e/run.sh -j $(JOBS) $(O)-asan

# make valgrind: the supervisor under memcheck through the counter session
# and an upgrade (tests/valgrind.sh).
valgrind: test-deps
	@sh tools/deps.sh valgrind
	$(MAKE) all
	@BUILD=$(O) sh tests/valgrind.sh

# make install [PREFIX=/usr/local] [DESTDIR=...]; make uninstall.
BINDIR	= $(DESTDIR)$(PREFIX)/bin
LIBDIR	= $(DESTDIR)$(PREFIX)/lib
INCDIR	= $(DESTDIR)$(PREFIX)/include/smsup
MANDIR	= $(DESTDIR)$(PREFIX)/share/man
PCDIR	= $(LIBDIR)/pkgconfig
SYSCONFDIR ?= /etc
UNITDIR	= $(DESTDIR)$(PREFIX)/lib/systemd/system
COMPDIR	= $(DESTDIR)$(PREFIX)/share/bash-completion/completions

# The pkg-config file is written for this PREFIX when installing. Outside
# /usr its Libs carry an rpath, so that a machine built with it finds the
# shared library at run time: workers get no LD_LIBRARY_PATH (smsup.1).
PC_RPATH = $(if $(filter /usr,$(PREFIX)),,-Wl$(comma)-rpath$(comma)$${libdir})
comma	:= ,
install: $(O)/smsup $(WORKER_LIB) $(WORKER_SO) $(CLIENT_LIB) $(CLIENT_SO)
	install -d $(BINDIR) $(LIBDIR) $(INCDIR) $(PCDIR) $(MANDIR)/man1 \
	    $(MANDIR)/man3 $(MANDIR)/man5 $(MANDIR)/man7 $(UNITDIR) $(COMPDIR)
	install -m 0755 $(O)/smsup $(BINDIR)/smsup
	install -m 0644 $(WORKER_LIB) $(LIBDIR)/libsmsup-worker.a
	install -m 0755 $(WORKER_SO) $(LIBDIR)/$(SOFILE)
	ln -sf $(SOFILE) $(LIBDIR)/libsmsup-worker.so.$(SOVERSION)
	ln -sf libsmsup-worker.so.$(SOVERSION) $(LIBDIR)/libsmsup-worker.so
	install -m 0644 $(CLIENT_LIB) $(LIBDIR)/libsmsup-client.a
	install -m 0755 $(CLIENT_SO) $(LIBDIR)/$(CLIENT_SOFILE)
	ln -sf $(CLIENT_SOFILE) $(LIBDIR)/libsmsup-client.so.1
	ln -sf libsmsup-client.so.1 $(LIBDIR)/libsmsup-client.so
	install -m 0644 include/smsup/worker.h $(INCDIR)/worker.h
	install -m 0644 include/smsup/client.h $(INCDIR)/client.h
	for pc in worker/smsup-worker client/smsup-client; do \
	    sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@RPATH@|$(PC_RPATH)|' $$pc.pc.in \
	    >$(PCDIR)/$${pc#*/}.pc && chmod 0644 $(PCDIR)/$${pc#*/}.pc; \
	done
	install -m 0644 man/smsup.1 $(MANDIR)/man1/smsup.1
	install -m 0644 man/smsup-worker.3 $(MANDIR)/man3/smsup-worker.3
	install -m 0644 man/smsup-client.3 $(MANDIR)/man3/smsup-client.3
	install -m 0644 man/smsup.conf.5 $(MANDIR)/man5/smsup.conf.5
	install -m 0644 man/smsup-protocol.7 $(MANDIR)/man7/smsup-protocol.7
	sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    contrib/smsup.service.in >$(UNITDIR)/smsup.service
	chmod 0644 $(UNITDIR)/smsup.service
	install -m 0644 contrib/smsup.bash-completion $(COMPDIR)/smsup
	@# The loader's cache, when this is the live system and we may.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && \
	    command -v ldconfig >/dev/null; then ldconfig; fi

uninstall:
	rm -f $(BINDIR)/smsup $(LIBDIR)/libsmsup-worker.a \
	    $(LIBDIR)/$(SOFILE) $(LIBDIR)/libsmsup-worker.so.$(VERSION) \
	    $(LIBDIR)/libsmsup-worker.so.$(SOVERSION) \
	    $(LIBDIR)/libsmsup-worker.so $(INCDIR)/worker.h \
	    $(LIBDIR)/libsmsup-client.a $(LIBDIR)/$(CLIENT_SOFILE) \
	    $(LIBDIR)/libsmsup-client.so.1 $(LIBDIR)/libsmsup-client.so \
	    $(INCDIR)/client.h $(PCDIR)/smsup-client.pc \
	    $(MANDIR)/man3/smsup-client.3 \
	    $(PCDIR)/smsup-worker.pc $(MANDIR)/man1/smsup.1 \
	    $(MANDIR)/man3/smsup-worker.3 $(MANDIR)/man5/smsup.conf.5 \
	    $(MANDIR)/man7/smsup-protocol.7 $(UNITDIR)/smsup.service \
	    $(COMPDIR)/smsup
	-rmdir $(INCDIR) 2>/dev/null

clean:
	rm -rf $(O)

.PHONY: fuzz asan valgrind
.PHONY: all deps test-deps unit e2e check soak chaos bench bench-quick demo lint install uninstall clean
.SECONDARY:

-include $(shell find $(O) -name '*.d' 2>/dev/null)
