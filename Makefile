# SPDX-License-Identifier: ISC
# leasepool: a plain GNU Makefile.  Everything is built below $(BUILD), so
# the source tree stays clean; `make BUILD=/tmp/x` builds elsewhere.
#
#   make                 daemon, client library, tool, modules, examples
#   make check           the whole test suite (Check, and check-python)
#   make check-python    the Python package's tests (client/python)
#   make check-sanitize  the suite again, built with ASan and UBSan
#   make check-tsan      the suite again, built with ThreadSanitizer
#   make fuzz            libFuzzer targets (clang)
#   make demo            start a daemon, run the examples against it, stop
#   make demo-python     the same with the Python examples and a Python pool
#   make format          clang-format the C files (format-check: say which are not)
#   make abi-check       libleasepool's ABI against the last release's (abi/)
#   make dist            leasepool-VERSION.tar.gz (distcheck: build and test it)
#   make install         PREFIX=/usr/local DESTDIR= (and SYSCONFDIR, SYSTEMDUNITDIR, BASHCOMPDIR...)
#   make uninstall       the same variables

BUILD ?= build
.DEFAULT_GOAL := all
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR ?= $(PREFIX)/share/man
MODULEDIR ?= $(PREFIX)/lib/leasepool/modules
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# For a distribution's /usr: /etc, and systemd's own directories (from its
# pkg-config file).  Any other prefix keeps everything below it, so that a
# user can install into a directory of their own.
usr_prefix = $(filter /usr,$(PREFIX))
SYSCONFDIR ?= $(if $(usr_prefix),/etc,$(PREFIX)/etc)
SYSTEMDUNITDIR ?= $(if $(usr_prefix),$(or $(SYSTEMD_UNITDIR_PC),/usr/lib/systemd/system),$(PREFIX)/lib/systemd/system)
SYSUSERSDIR ?= $(if $(usr_prefix),$(or $(SYSUSERSDIR_PC),/usr/lib/sysusers.d),$(PREFIX)/lib/sysusers.d)
# The Python package: for /usr in Debian's directory for it, which Python
# searches; below any other prefix in one to add to PYTHONPATH
# (client/python/README.md).
PYTHONDIR ?= $(if $(usr_prefix),$(PREFIX)/lib/python3/dist-packages,$(PREFIX)/lib/python3/site-packages)
# Debian's Python, which python3-msgpack and python3-pytest serve.
PYTHON ?= /usr/bin/python3

# The release, in one place: the binaries (LP_VERSION), leasepool.pc, the man
# pages and the tarball take it from here.  NEWS.md says what each one changed.
VERSION := $(shell cat VERSION)
SOVERSION := 1

CC ?= cc
OPT ?= -O2
CFLAGS ?= $(OPT) -g
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DLP_VERSION='"$(VERSION)"' -fPIC -pthread $(WARN) \
	-Iinclude -I. $(PKG_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
ALL_LDFLAGS = -pthread $(SAN_FLAGS) $(LDFLAGS)

# SANITIZE=1: ASan and UBSan.  SANITIZE=thread: TSan (it cannot be combined with ASan).
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SANITIZE),thread)
SAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
endif

# Dependencies: checked (and installed when root) once per build directory,
# then their flags are cached in config.mk.
CONFIG_MK := $(BUILD)/config.mk
ifeq ($(filter clean,$(MAKECMDGOALS)),)
-include $(CONFIG_MK)
endif

$(CONFIG_MK): scripts/deps.sh Makefile
	@mkdir -p $(@D)
	@sh scripts/deps.sh
	@{ echo "PKG_CFLAGS := $$(pkg-config --cflags libevent msgpack jansson)"; \
	   echo "EVENT_LIBS := $$(pkg-config --libs libevent)"; \
	   echo "MSGPACK_LIBS := $$(pkg-config --libs msgpack)"; \
	   echo "CHECK_CFLAGS := $$(pkg-config --cflags check)"; \
	   echo "CHECK_LIBS := $$(pkg-config --libs check)"; \
	   echo "JANSSON_LIBS := $$(pkg-config --libs jansson)"; \
	   echo "SYSTEMD_UNITDIR_PC := $$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)"; \
	   echo "SYSUSERSDIR_PC := $$(pkg-config --variable=sysusersdir systemd 2>/dev/null)"; \
	} > $@.tmp && mv $@.tmp $@

OBJ := $(BUILD)/obj

PROTO_SRC := $(sort $(wildcard proto/*.c))
DAEMON_SRC := $(sort $(wildcard daemon/*/*.c))
CLIENT_SRC := $(sort $(wildcard client/lib/*.c))
TOOL_SRC := $(sort $(wildcard client/tool/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/*.c tests/integration/*.c tests/*.c))
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
MODULE_SRC := $(sort $(wildcard modules/*.c))
TEST_MODULE_SRC := $(sort $(wildcard tests/modules/*.c))
TEST_PROGRAM_SRC := $(sort $(wildcard tests/programs/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))
PYTHON_PACKAGE := $(sort $(wildcard client/python/leasepoold/*.py)) client/python/leasepoold/py.typed

objs = $(patsubst %.c,$(OBJ)/%.o,$(1))
PROTO_OBJ := $(call objs,$(PROTO_SRC))
DAEMON_OBJ := $(call objs,$(DAEMON_SRC))
CLIENT_OBJ := $(call objs,$(CLIENT_SRC))
TOOL_OBJ := $(call objs,$(TOOL_SRC))
TEST_OBJ := $(call objs,$(TEST_SRC))
BENCH_OBJ := $(call objs,$(BENCH_SRC))

DAEMON := $(BUILD)/leasepoold
TOOL := $(BUILD)/leasepool
LIB_A := $(BUILD)/libleasepool.a
LIB_SO := $(BUILD)/libleasepool.so.$(SOVERSION)
TESTS := $(BUILD)/tests/leasepool-tests
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EXAMPLE_SRC))
BENCH := $(BUILD)/leasepool-bench
MODULES := $(patsubst modules/%.c,$(BUILD)/modules/%.so,$(MODULE_SRC))
TEST_MODULES := $(patsubst tests/modules/%.c,$(BUILD)/tests/modules/%.so,$(TEST_MODULE_SRC))
TEST_PROGRAMS := $(patsubst tests/programs/%.c,$(BUILD)/tests/programs/%,$(TEST_PROGRAM_SRC))

.PHONY: all check check-sanitize check-tsan check-valgrind fuzz fuzz-smoke demo demo-python bench benchmark install uninstall clean deps \
	lint-man check-install check-completion check-layers check-contract check-python check-spdx abi-check abi-baseline dist distcheck format format-check

all: $(DAEMON) $(LIB_A) $(LIB_SO) $(if $(TOOL_SRC),$(TOOL)) $(EXAMPLES) $(MODULES)

deps:
	@sh scripts/deps.sh

$(OBJ)/%.o: %.c VERSION | $(CONFIG_MK)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(if $(filter tests/%,$<),$(CHECK_CFLAGS)) -MMD -MP -c $< -o $@

-include $(wildcard $(OBJ)/*/*.d $(OBJ)/*/*/*.d)

$(BUILD)/libproto.a: $(PROTO_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libleasepoold.a: $(DAEMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# The job-module ABI functions are exported from the daemon, for modules to call.
$(DAEMON): $(OBJ)/daemon/main.o $(BUILD)/libleasepoold.a $(BUILD)/libproto.a daemon/exports.list
	$(CC) $(ALL_LDFLAGS) -Wl,--dynamic-list=daemon/exports.list -o $@ \
		$(filter %.o %.a,$^) $(EVENT_LIBS) $(MSGPACK_LIBS) -lm

# Job modules: shared objects the daemon loads at start-up.
link_module = mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -shared -o $@ $< $(MSGPACK_LIBS)
$(MODULES): $(BUILD)/modules/%.so: modules/%.c include/leasepool/job.h | $(CONFIG_MK)
	$(link_module)
$(TEST_MODULES): $(BUILD)/tests/modules/%.so: tests/modules/%.c include/leasepool/job.h | $(CONFIG_MK)
	$(link_module)
# Worker programs (docs/worker-protocol.md) the programs suite runs.
$(TEST_PROGRAMS): $(BUILD)/tests/programs/%: tests/programs/%.c | $(CONFIG_MK)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(MSGPACK_LIBS)

# The client library carries its own copy of the protocol layer, so users
# link one library.
$(LIB_A): $(CLIENT_OBJ) $(PROTO_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO): $(CLIENT_OBJ) $(PROTO_OBJ) client/lib/libleasepool.map
	$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,libleasepool.so.$(SOVERSION) \
		-Wl,--version-script=client/lib/libleasepool.map -o $@ $(filter %.o,$^) $(MSGPACK_LIBS)
	ln -sf libleasepool.so.$(SOVERSION) $(BUILD)/libleasepool.so

$(TOOL): $(TOOL_OBJ) $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $(TOOL_OBJ) $(LIB_A) $(JANSSON_LIBS) $(MSGPACK_LIBS) -lm

# Examples link the static library, as a user's program would link the shared one.
$(BUILD)/examples/%: $(OBJ)/examples/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(EVENT_LIBS) $(MSGPACK_LIBS) -lm

# Every C block of README.md is a whole program, built here and run by the examples suite.
README_PROGRAMS := $(BUILD)/readme/.built
$(README_PROGRAMS): README.md scripts/readme-programs.sh $(LIB_A)
	@sh scripts/readme-programs.sh README.md $(@D) "$(CC) $(ALL_CFLAGS)" "$(LIB_A) $(MSGPACK_LIBS) -lm"
	@touch $@

# The bench's python pool serves the jobs and the package of this source tree.
$(OBJ)/bench/daemon.o: ALL_CFLAGS += -DBENCH_SOURCE='"$(CURDIR)"'

$(BENCH): $(BENCH_OBJ) $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $(BENCH_OBJ) $(LIB_A) $(EVENT_LIBS) $(MSGPACK_LIBS) -lm

# One Check binary holds every suite; CK_RUN_SUITE picks one.
$(TESTS): $(TEST_OBJ) $(BUILD)/libleasepoold.a $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/libleasepoold.a $(LIB_A) \
		$(EVENT_LIBS) $(MSGPACK_LIBS) $(CHECK_LIBS) -lm

# The third-party msgpack-RPC clients of the interop suite, where their
# toolchains are: Go's net/rpc with the distribution's ugorji/go codec
# (golang-github-ugorji-go-codec-dev), and npm's msgpack5rpc at the version
# tests/interop/node/package-lock.json pins, which npm ci fetches (make
# check NPM= goes without it, offline).  The suite tests the clients found.
INTEROP = $(BUILD)/tests/interop
GO ?= $(shell command -v go 2>/dev/null)
NPM ?= $(shell command -v npm 2>/dev/null)
GO_CODEC = /usr/share/gocode/src/github.com/ugorji/go/codec
INTEROP_CLIENTS = $(if $(and $(GO),$(wildcard $(GO_CODEC))),$(INTEROP)/go-client) \
	$(if $(NPM),$(INTEROP)/node/node_modules/.package-lock.json)

$(INTEROP)/go-client: tests/interop/go/client.go
	@mkdir -p $(@D)
	GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE=$(abspath $(INTEROP))/go-cache \
		$(GO) build -o $@ tests/interop/go/client.go

$(INTEROP)/node/node_modules/.package-lock.json: tests/interop/node/package.json tests/interop/node/package-lock.json
	@mkdir -p $(INTEROP)/node
	cp tests/interop/node/package.json tests/interop/node/package-lock.json $(INTEROP)/node/
	cd $(INTEROP)/node && $(NPM) ci --no-audit --no-fund --loglevel=error

check: check-layers check-contract all $(TESTS) $(TEST_MODULES) $(TEST_PROGRAMS) $(README_PROGRAMS) $(INTEROP_CLIENTS) lint-man check-install check-completion check-python check-spdx
	LP_DAEMON=$(abspath $(DAEMON)) LP_TOOL=$(abspath $(TOOL)) LP_EXAMPLES=$(abspath $(BUILD)/examples) \
		LP_README=$(abspath $(BUILD)/readme) LP_INTEROP=$(abspath $(INTEROP)) \
		LP_MODULES=$(abspath $(BUILD)/modules) LP_TEST_MODULES=$(abspath $(BUILD)/tests/modules) \
		LP_SOURCE=$(CURDIR) $(TESTS)

# Man pages must render without a warning: mandoc's linter, else groff's.
MAN_PAGES := $(sort $(wildcard docs/*.[1-8]))
# The layering rule of daemon/ (README.md, Layout), checked before anything is built.
check-layers:
	@sh scripts/check-layers.sh

# docs/protocol.md and docs/leasepoold.conf.5 name every method, error code,
# answer key and configuration key of the code (scripts/check-contract.sh).
check-contract:
	@sh scripts/check-contract.sh

# The C style: .clang-format (clang-format 14) after scripts/format.sh's two rewrites.
format:
	@sh scripts/format.sh

format-check:
	@sh scripts/format.sh --check && echo "format-check: every C file is formatted"

# Every source file names its licence (LICENSE); scripts/spdx.sh adds the line.
check-spdx:
	@sh scripts/spdx.sh --check && echo "check-spdx: every source file has its SPDX-License-Identifier"

lint-man:
	@if command -v mandoc >/dev/null 2>&1; then \
		mandoc -T lint -W warning $(MAN_PAGES) || exit 1; \
	else \
		for page in $(MAN_PAGES); do \
			out=$$(groff -ww -z -mandoc $$page 2>&1); \
			[ -z "$$out" ] || { echo "$$page: $$out"; exit 1; }; \
		done; \
	fi
	@echo "lint-man: $(words $(MAN_PAGES)) man pages are clean"

# The bash completion must at least parse; the tool suite runs it.
check-completion:
	@bash -n client/tool/leasepool.bash && echo "check-completion: client/tool/leasepool.bash parses"

# The Python package's tests, and its types when mypy is there.  Nothing is
# written to the source tree: no bytecode, no pytest cache.
check-python: $(DAEMON)
	LEASEPOOLD=$(abspath $(DAEMON)) PYTHONDONTWRITEBYTECODE=1 \
		$(PYTHON) -m pytest -q -p no:cacheprovider client/python/tests
	@if $(PYTHON) -m mypy --version >/dev/null 2>&1; then \
		PYTHONDONTWRITEBYTECODE=1 $(PYTHON) -m mypy --cache-dir=$(BUILD)/mypy \
			--config-file client/python/pyproject.toml client/python/leasepoold \
			client/python/setup.py client/python/tests examples/python || exit 1; \
	else echo "check-python: no mypy for $(PYTHON): types not checked"; fi

# make install into a scratch DESTDIR must lay down exactly tests/install.list.
check-install: all
	@sh tests/check-install.sh "$(MAKE)" "$(BUILD)"

# Builds, starts a daemon on its embedded default configuration and a pool
# of Python workers on a private socket, runs the examples against it at the
# same time and a Python job, shows stats, stops.
demo: all
	@sh scripts/demo.sh $(BUILD)

demo-python: all
	@PYTHON=$(PYTHON) sh scripts/python-examples.sh -d $(BUILD)

bench: $(BENCH)

benchmark: $(BENCH) $(DAEMON)
	$(BENCH) --daemon $(abspath $(DAEMON))

# The integration suites again with the daemon under valgrind: no leak, no
# invalid access (its exit status says; the harness stops every daemon).
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --child-silent-after-fork=yes
# Not workers: it counts a worker's descriptors, and valgrind keeps its own.
# Not the cases tagged reexec: a fork server the daemon restarts is
# /proc/self/exe exec'd again, which under valgrind is valgrind's own tool.
# Not those tagged nofile: valgrind keeps descriptors of its own under the
# daemon's RLIMIT_NOFILE, and refuses (EBADF) any use of one that the
# kernel, out of room below, passes the daemon among them.
VALGRIND_SUITES ?= daemon grinder shared cancel
check-valgrind: all $(TESTS) $(TEST_MODULES)
	@for suite in $(VALGRIND_SUITES); do \
		echo "== $$suite under valgrind"; \
		CK_RUN_SUITE=$$suite CK_EXCLUDE_TAGS="reexec nofile" CK_TIMEOUT_MULTIPLIER=6 LP_DAEMON_WRAPPER="$(VALGRIND)" \
		LP_DAEMON=$(abspath $(DAEMON)) LP_TEST_MODULES=$(abspath $(BUILD)/tests/modules) \
		$(TESTS) || exit 1; \
	done

check-sanitize:
	$(MAKE) BUILD=$(BUILD)-sanitize SANITIZE=1 OPT=-O1 check

# Every process (tests, daemons, workers) writes its reports to TSAN_REPORTS,
# not to a test daemon's log that is gone with its directory: any report
# fails the target.  CK_RUN_SUITE=threads runs the thread backend's tests alone.
TSAN_REPORTS = $(abspath $(BUILD)-tsan)/tsan-reports
check-tsan:
	@rm -rf $(TSAN_REPORTS) && mkdir -p $(TSAN_REPORTS)
	TSAN_OPTIONS="log_path=$(TSAN_REPORTS)/report second_deadlock_stack=1 $(TSAN_OPTIONS)" \
		$(MAKE) BUILD=$(BUILD)-tsan SANITIZE=thread OPT=-O1 check
	@if ls $(TSAN_REPORTS)/report.* >/dev/null 2>&1; then \
		cat $(TSAN_REPORTS)/report.*; echo "check-tsan: ThreadSanitizer reports above"; exit 1; \
	fi

# libFuzzer needs clang; FUZZ_SECONDS bounds each target's smoke run.
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -DLP_VERSION='"$(VERSION)"' -pthread $(WARN) -Iinclude -I. \
	$(PKG_CFLAGS)
FUZZ_SECONDS ?= 60
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

$(BUILD)/fuzz/%: tests/fuzz/%.c $(PROTO_SRC) | $(CONFIG_MK)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_CFLAGS) -o $@ $< $(PROTO_SRC) $(MSGPACK_LIBS) -lm

# The connection target runs the daemon itself; its jobs' sleeps are cut
# short (tests/fuzz/fuzz_conn.c says why).
$(BUILD)/fuzz/fuzz_conn: tests/fuzz/fuzz_conn.c $(DAEMON_SRC) $(PROTO_SRC) \
    $(wildcard daemon/*/*.h proto/*.h include/leasepool/*.h) | $(CONFIG_MK)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_CFLAGS) -Wl,--wrap=nanosleep -o $@ $< \
		$(DAEMON_SRC) $(PROTO_SRC) $(EVENT_LIBS) $(MSGPACK_LIBS) -lm

fuzz: $(FUZZERS)

# Seeds: tests/fuzz/corpus-NAME for fuzz_NAME, else the decoder's tests/fuzz/corpus.
# What a target finds is in $(BUILD)/fuzz, with its log; the smoke fails on it.
fuzz-smoke: $(FUZZERS)
	@for f in $(FUZZERS); do \
		name=$$(basename $$f); \
		seeds=tests/fuzz/corpus-$${name#fuzz_}; \
		[ -d $$seeds ] || seeds=tests/fuzz/corpus; \
		echo "fuzz: $$name for $(FUZZ_SECONDS)s, seeds from $$seeds"; \
		mkdir -p $(BUILD)/fuzz/corpus-$$name; \
		if $$f -max_total_time=$(FUZZ_SECONDS) -timeout=60 -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-$$name $$seeds \
			>$(BUILD)/fuzz/$$name.log 2>&1; then \
			tail -n 12 $(BUILD)/fuzz/$$name.log; \
		else \
			tail -n 80 $(BUILD)/fuzz/$$name.log; \
			echo "fuzz: $$name failed; see $(BUILD)/fuzz/$$name.log"; exit 1; \
		fi; \
	done

# libleasepool's ABI against the last release's, recorded in abi/ (scripts/abi-check.sh):
# a removal or a changed signature fails.  A release records its own with abi-baseline.
ABI_BASELINE := abi/libleasepool.so.$(SOVERSION).abi
abi-check: $(LIB_SO)
	@sh scripts/abi-check.sh $(LIB_SO) $(ABI_BASELINE)

abi-baseline: $(LIB_SO)
	@sh scripts/abi-check.sh --update $(LIB_SO) $(ABI_BASELINE)

# The release tarball: the tracked files at HEAD (git archive), nothing
# generated, below leasepool-VERSION/, writable by their owner only (the
# daemon loads no module from a directory others may write, and root's tar
# keeps the modes).  distcheck builds it and runs make check in a fresh
# directory outside this tree (CC= and CFLAGS= pass through).
DIST := leasepool-$(VERSION)
dist:
	@mkdir -p $(BUILD)
	git -c tar.umask=022 archive --format=tar.gz --prefix=$(DIST)/ -o $(BUILD)/$(DIST).tar.gz HEAD
	@git diff --quiet HEAD || echo "dist: changes not committed are not in $(BUILD)/$(DIST).tar.gz"
	@echo "dist: $(BUILD)/$(DIST).tar.gz"

distcheck: dist
	@dir=$$(mktemp -d /tmp/$(DIST)-distcheck.XXXXXX) && \
	tar -xzf $(BUILD)/$(DIST).tar.gz -C $$dir && \
	$(MAKE) -C $$dir/$(DIST) BUILD=build all && \
	$(MAKE) -C $$dir/$(DIST) BUILD=build check && \
	rm -rf $$dir && echo "distcheck: $(BUILD)/$(DIST).tar.gz builds and passes make check"

# The installed library: libleasepool.so -> .so.1 (the SONAME) -> .so.1.1.0.
# The minor number counts additions to the ABI, each a symbol version of
# its own in client/lib/libleasepool.map (LEASEPOOL_1.1 ...).
SOMINOR := 1
SOFULL := $(SOVERSION).$(SOMINOR).0
SUBST = sed -e 's|@SBINDIR@|$(SBINDIR)|g; s|@BINDIR@|$(BINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@MODULEDIR@|$(MODULEDIR)|g; s|@PREFIX@|$(PREFIX)|g; s|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g; s|@VERSION@|$(VERSION)|g'
MAN_SECTIONS := 1 3 5 8
# $(call install_subst,SOURCE,TARGET): the source with the paths filled in, mode 0644 whatever
# the umask; nothing is written to the build directory, which the installing user may not own.
install_subst = $(SUBST) $(1) > $(2) && chmod 0644 $(2)
CONF := $(DESTDIR)$(SYSCONFDIR)/leasepool/leasepoold.conf

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR)/leasepool $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MODULEDIR) \
		$(DESTDIR)$(SYSCONFDIR)/leasepool $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(foreach n,$(MAN_SECTIONS),$(DESTDIR)$(MANDIR)/man$(n)) \
		$(DESTDIR)$(PYTHONDIR)/leasepoold
	install -m 0755 $(DAEMON) $(DESTDIR)$(SBINDIR)/leasepoold
	install -m 0755 $(TOOL) $(DESTDIR)$(BINDIR)/leasepool
	install -m 0644 client/tool/leasepool.bash $(DESTDIR)$(BASHCOMPDIR)/leasepool
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libleasepool.a
	install -m 0644 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libleasepool.so.$(SOFULL)
	ln -sf libleasepool.so.$(SOFULL) $(DESTDIR)$(LIBDIR)/libleasepool.so.$(SOVERSION)
	ln -sf libleasepool.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libleasepool.so
	install -m 0644 include/leasepool/*.h $(DESTDIR)$(INCLUDEDIR)/leasepool/
	$(call install_subst,client/lib/leasepool.pc.in,$(DESTDIR)$(PKGCONFIGDIR)/leasepool.pc)
	install -m 0644 $(MODULES) $(DESTDIR)$(MODULEDIR)/
	install -m 0644 $(PYTHON_PACKAGE) $(DESTDIR)$(PYTHONDIR)/leasepoold/
	$(call install_subst,systemd/leasepoold.service,$(DESTDIR)$(SYSTEMDUNITDIR)/leasepoold.service)
	$(call install_subst,systemd/leasepoold.socket,$(DESTDIR)$(SYSTEMDUNITDIR)/leasepoold.socket)
	install -m 0644 systemd/sysusers.d/leasepool.conf $(DESTDIR)$(SYSUSERSDIR)/leasepool.conf
	@# The administrator's configuration stays as it is.
	@if [ -e $(CONF) ]; then echo "install: keeping $(CONF)"; \
	else echo "install: $(CONF)"; $(call install_subst,etc/leasepoold.conf,$(CONF)); fi
	for page in $(MAN_PAGES); do \
		$(call install_subst,$$page,$(DESTDIR)$(MANDIR)/man$${page##*.}/$${page#docs/}) || exit 1; \
	done

# The configuration goes only when nobody changed it, like a conffile on `apt remove`.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/leasepoold $(DESTDIR)$(BINDIR)/leasepool \
		$(DESTDIR)$(BASHCOMPDIR)/leasepool \
		$(DESTDIR)$(LIBDIR)/libleasepool.a $(DESTDIR)$(LIBDIR)/libleasepool.so \
		$(DESTDIR)$(LIBDIR)/libleasepool.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libleasepool.so.$(SOFULL) \
		$(DESTDIR)$(PKGCONFIGDIR)/leasepool.pc \
		$(DESTDIR)$(SYSTEMDUNITDIR)/leasepoold.service $(DESTDIR)$(SYSTEMDUNITDIR)/leasepoold.socket \
		$(DESTDIR)$(SYSUSERSDIR)/leasepool.conf \
		$(patsubst modules/%.c,$(DESTDIR)$(MODULEDIR)/%.so,$(MODULE_SRC)) \
		$(foreach page,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(page)))/$(notdir $(page)))
	rm -rf $(DESTDIR)$(INCLUDEDIR)/leasepool $(DESTDIR)$(PYTHONDIR)/leasepoold
	@if [ -e $(CONF) ]; then \
		if $(SUBST) etc/leasepoold.conf | cmp -s - $(CONF); then rm -f $(CONF); \
		else echo "uninstall: keeping $(CONF): it was changed"; fi; \
	fi
	@# Our own directories, once empty.
	@rmdir $(DESTDIR)$(SYSCONFDIR)/leasepool $(DESTDIR)$(MODULEDIR) \
		$(DESTDIR)$(PREFIX)/lib/leasepool 2>/dev/null || true

clean:
	rm -rf $(BUILD) $(BUILD)-sanitize $(BUILD)-tsan
