# berth — see README.md. `make demo` and `make check` are the two entry points.
CC ?= cc
PKGS := yaml-0.1 jansson nettle libarchive libseccomp libnl-3.0 libnl-route-3.0 libnftables libnftnl libmnl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libarchive is loaded when an image is first read (images/archive_dl.c):
# linked, it cost every command ~5 ms of relocations. Its headers are used.
# Libraries that nothing else berth loads needs are linked statically: each
# shared one costs every berth command page faults and relocations (~1 ms
# for these on this VM). libnftables, when loaded, brings jansson, libnftnl
# and libmnl as shared libraries, so those stay shared.
STATIC_PKGS := yaml-0.1 nettle libseccomp libnl-3.0 libnl-route-3.0
# libnftables is loaded when berth first changes its table
# (network/nft_dl.c): linked, it cost every command ~1.2 ms.
PKG_LIBS = -Wl,-Bstatic $(shell pkg-config --libs $(STATIC_PKGS) 2>/dev/null) -Wl,-Bdynamic \
	$(shell pkg-config --libs $(filter-out libarchive libnftables $(STATIC_PKGS),$(PKGS)) 2>/dev/null)
WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 -Wno-format-nonliteral
OPT ?= -O2 -g
# SANITIZE is set for the test build; CFLAGS and LDFLAGS stay the user's own.
SANITIZE ?=
ALL_CFLAGS = $(OPT) $(SANITIZE) -std=gnu11 $(WARN) -D_GNU_SOURCE -I. $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANITIZE) $(LDFLAGS)
LDLIBS += $(PKG_LIBS) -lm

BUILD ?= build
# Tests build a second tree with the sanitizers on.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SHIM_MAIN := cmd/shim.c
SHIM_ONLY := runtime/shim.c runtime/init.c
LIB_SRC := $(wildcard lib/*.c) $(wildcard orchestrator/*.c) $(wildcard images/*.c) $(wildcard builder/*.c) $(filter-out $(SHIM_ONLY),$(wildcard runtime/*.c)) \
	$(wildcard network/*.c) $(wildcard volumes/*.c) $(wildcard convert/*.c)
# The shim is a small static binary of its own (cmd/shim.c, runtime/shim.c):
# one runs per container, so it must cost little memory (see docs/design-notes.md). It is
# also berth-init and the DNS responder (`berth-shim dns`).
SHIM_SRC := $(SHIM_MAIN) $(SHIM_ONLY) lib/util.c lib/err.c lib/fdpass.c lib/spawn.c lib/buf.c lib/fs.c lib/log.c lib/json.c runtime/spec.c runtime/state.c \
	runtime/process.c runtime/rootfs.c runtime/cgroup.c runtime/cgroup_v1.c runtime/cgroup_v2.c runtime/devices.c runtime/console.c runtime/caps.c runtime/exeseal.c runtime/overlay.c runtime/enter.c runtime/health.c runtime/events.c \
	network/dnsd.c network/dnsmsg.c volumes/copyup.c
ASM_SRC := orchestrator/schema_data.S
CMD_SRC := $(filter-out $(SHIM_MAIN),$(wildcard cmd/*.c))

LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o) $(ASM_SRC:%.S=$(BUILD)/%.o)
CMD_OBJ = $(CMD_SRC:%.c=$(BUILD)/%.o)

# What berth builds against and what `make demo` runs (Debian package names).
BUILD_PKGS := pkg-config libyaml-dev libseccomp-dev libnl-3-dev libnl-route-3-dev libarchive-dev \
	libcurl4-openssl-dev libnftables-dev libnftnl-dev libmnl-dev libjansson-dev nettle-dev busybox-static
# Test-only: PACKAGE:COMMAND, installed only when COMMAND is missing (a host
# whose node and npm come from elsewhere keeps them); PACKAGE: is a library.
TEST_PKGS := libcmocka-dev: libclang-rt-14-dev: clang:clang skopeo:skopeo attr:getfattr redis-tools:redis-cli \
	docker-registry:docker-registry apache2-utils:htpasswd openssl:openssl curl:curl python3:python3 \
	jq:jq strace:strace nftables:nft nodejs:node npm:npm

PEERS ?= 0
ROUNDS ?= 7
PREFIX ?= /usr/local
UNITDIR ?= /etc/systemd/system
.PHONY: all deps test-deps check unit integration fuzz clean demo demo-real bench install docs format
all: $(BUILD)/berth $(BUILD)/berth-shim

$(BUILD)/berth-shim: $(SHIM_SRC:%.c=$(BUILD)/shim/%.o)
	$(CC) -static -o $@ $^ $(shell pkg-config --libs jansson)

$(BUILD)/shim/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -std=gnu11 $(WARN) -D_GNU_SOURCE -I. $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/berth: $(CMD_OBJ) $(BUILD)/libberth.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libberth.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# Names the cached default seccomp program by the source of its rules.
$(BUILD)/runtime/seccomp.o: ALL_CFLAGS += -DBERTH_SECCOMP_ID=\"$(shell sha256sum runtime/seccomp.c | cut -c1-12)\"

# The schema is built in without its prose (see orchestrator/schema/minify.c).
$(BUILD)/schema-minify: orchestrator/schema/minify.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $< $(shell pkg-config --cflags --libs jansson)

$(BUILD)/compose-spec.min.json: orchestrator/schema/compose-spec.json $(BUILD)/schema-minify
	$(BUILD)/schema-minify $< $@

$(BUILD)/orchestrator/schema_data.o: orchestrator/schema_data.S $(BUILD)/compose-spec.min.json
	@mkdir -p $(dir $@)
	$(CC) -I$(BUILD) -c -o $@ $<

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d $(BUILD)/*/*/*/*.d)

# Installs what is missing of PKGS (PACKAGE or PACKAGE:COMMAND); quiet and
# quick when all are there. An apt failure stops make, naming the package.
define apt_install
	@missing=$$(for p in $(1); do c=; case $$p in *:*) c=$${p#*:}; p=$${p%%:*};; esac; \
		if [ -n "$$c" ]; then command -v $$c >/dev/null 2>&1 || echo $$p; \
		else dpkg -s $$p >/dev/null 2>&1 || echo $$p; fi; done); \
	[ -z "$$missing" ] && exit 0; \
	echo "installing:" $$missing; \
	apt-get update -qq || { echo "make: apt-get update failed; cannot install: $$missing" >&2; exit 1; }; \
	for p in $$missing; do \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$p >/dev/null || \
			{ echo "make: apt-get could not install the Debian package $$p" >&2; exit 1; }; \
	done; \
	case " $$missing " in *" docker-registry "*) \
		: "the tests run their own registries; the system one Debian starts is not wanted"; \
		if [ -d /run/systemd/system ]; then systemctl disable --now docker-registry >/dev/null 2>&1; fi ;; \
	esac; true
endef

deps:
	$(call apt_install,$(BUILD_PKGS))

# What the tests use beyond the build: cmocka, the sanitizers' runtime,
# registry tools, and the Kubernetes schema berth convert's output is checked against.
test-deps: deps
	$(call apt_install,$(TEST_PKGS))
	@if [ ! -d tests/k8s/node_modules/kubernetes-models ]; then \
		echo "installing the Kubernetes schema models for the convert tests (tests/k8s)"; \
		npm ci --prefix tests/k8s --no-audit --no-fund --loglevel=error >/dev/null || \
			{ echo "make: npm ci --prefix tests/k8s failed" >&2; exit 1; }; \
	fi

# Unit tests: one cmocka binary per tests/unit/test_*.c, linked with the library.
UNIT_SRC := $(wildcard tests/unit/test_*.c)
SANBUILD := build/san

unit: test-deps
	@$(MAKE) --no-print-directory BUILD=$(SANBUILD) OPT="-O1 -g" SANITIZE="$(SAN)" \
		$(SANBUILD)/berth $(SANBUILD)/berth-shim $(UNIT_SRC:tests/unit/%.c=$(SANBUILD)/tests/%) \
		$(SANBUILD)/tests/netpeer $(SANBUILD)/tests/probe

# A static UDP and DNS peer that the network tests run in containers and on the host.
$(SANBUILD)/tests/netpeer: tests/helpers/netpeer.c network/dnsmsg.c network/dnsmsg.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -static -std=gnu11 $(WARN) -D_GNU_SOURCE -I. -o $@ tests/helpers/netpeer.c network/dnsmsg.c

# The attacker's probe that the security tests run inside containers and on the host.
$(SANBUILD)/tests/probe: tests/helpers/probe.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -static -std=gnu11 $(WARN) -D_GNU_SOURCE -o $@ $<

$(SANBUILD)/tests/%: tests/unit/%.c $(SANBUILD)/libberth.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

check: test-deps all unit
	@BERTH=$(CURDIR)/$(SANBUILD)/berth BERTH_PLAIN=$(CURDIR)/$(BUILD)/berth SANBUILD=$(SANBUILD) \
		NETPEER=$(CURDIR)/$(SANBUILD)/tests/netpeer \
		PROBE=$(CURDIR)/$(SANBUILD)/tests/probe tests/run-all

# The layout STYLE.md names (.clang-format): `make format` checks every C
# file, `make format FIX=1` rewrites them. The tree is formatted with
# Debian 12's clang-format (14); another version may lay out a few lines
# otherwise, so this is not part of make check.
CLANG_FORMAT ?= clang-format
FORMAT_SRC = $(wildcard cmd/*.[ch] lib/*.[ch] images/*.[ch] volumes/*.[ch] runtime/*.[ch] network/*.[ch] \
	builder/*.[ch] orchestrator/*.[ch] orchestrator/schema/*.c convert/*.[ch] \
	tests/unit/*.[ch] tests/helpers/*.c tests/fuzz/*.c)
format:
	$(call apt_install,clang-format:$(CLANG_FORMAT))
	@if [ -n "$(FIX)" ]; then $(CLANG_FORMAT) -i $(FORMAT_SRC); \
	else $(CLANG_FORMAT) --dry-run -Werror $(FORMAT_SRC) && echo "format: $(words $(FORMAT_SRC)) files laid out as .clang-format says"; fi

fuzz: test-deps
	@tests/fuzz/run

# berth against docker-compose and podman-compose (PEERS=1 installs them);
# writes bench/RESULTS.md (see bench/run.sh).
bench: deps all
	@PEERS=$(PEERS) ROUNDS=$(ROUNDS) bench/run.sh

# Installs, builds and brings up examples/hello (offline, busybox-static).
demo: deps all
	@examples/demo.sh

# docs/compose-keys.md and docs/kubernetes.md, from the tables of orchestrator/keys.c and convert/k8skeys.c.
docs: unit
	@BERTH_WRITE_DOCS=1 $(SANBUILD)/tests/test_keys >/dev/null
	@BERTH_WRITE_DOCS=1 $(SANBUILD)/tests/test_convert >/dev/null

# The second example: images built FROM scratch on mmdebstrap root
# filesystems (fetched from Debian's archive the first time).
demo-real: deps all
	@examples/demo-real.sh

# berth and its shim side by side (berth runs the shim found beside it),
# and the systemd unit that brings containers back at boot, enabled when
# systemd runs this host and the unit goes to its own directory.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/berth $(BUILD)/berth-shim $(DESTDIR)$(PREFIX)/bin/
	sed 's|@BINDIR@|$(PREFIX)/bin|g' contrib/berth.service >$(DESTDIR)$(UNITDIR)/berth.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/berth.service
	@if [ -z "$(DESTDIR)" ] && [ "$(UNITDIR)" = /etc/systemd/system ] && [ -d /run/systemd/system ]; then \
		systemctl daemon-reload && systemctl enable berth.service; \
	else \
		echo "berth.service installed in $(DESTDIR)$(UNITDIR); enable it with: systemctl enable berth.service"; \
	fi

clean:
	rm -rf build
