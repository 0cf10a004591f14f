# SPDX-License-Identifier: GPL-2.0
# lsnitch: cgroup-scoped per-application firewall (eBPF + C agent).
# `make` builds into build/, `make test` runs unit + end-to-end tests,
# `make run` runs the agent on the example lists, `make bench` measures.

.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
ARCH    := $(shell uname -m)
BPF_ARCH := $(subst x86_64,x86,$(subst aarch64,arm64,$(ARCH)))
VERSION := 0.1.0

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow -D_GNU_SOURCE \
	   -Iinclude -Irules -I$(BUILD) -DLN_VERSION='"$(VERSION)"'
LDLIBS_AGENT := -lbpf -lelf -lz -lsystemd -linih -lresolv -lxxhash
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall \
	      -I/usr/include/$(ARCH)-linux-gnu -Iinclude

# Debian packages the build, tests and benchmarks need.
DEPS_PKGS := clang llvm gcc make pkg-config libbpf-dev libelf-dev zlib1g-dev \
	     libsystemd-dev libinih-dev libcmocka-dev bpftool iproute2 util-linux \
	     curl python3 dnsutils socat libxxhash-dev dnsmasq dnsperf

RULES_SRC  := $(sort $(wildcard rules/*.c))
RULES_OBJ  := $(patsubst rules/%.c,$(BUILD)/rules/%.o,$(RULES_SRC))
AGENT_SRC  := $(sort $(wildcard agent/*.c))
AGENT_OBJ  := $(patsubst agent/%.c,$(BUILD)/agent/%.o,$(AGENT_SRC))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCH_SRC  := $(sort $(wildcard bench/*.c))
BENCH_BIN  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
HDRS       := $(wildcard include/*.h) $(wildcard rules/*.h) $(wildcard agent/*.h)

.PHONY: all deps agent unit test test-unit test-e2e bench run check install clean format

all: deps agent $(UNIT_BIN) $(BENCH_BIN)

agent: $(BUILD)/lsnitch-agent

# Installs what is missing, nothing else; a no-op when all is present.
deps:
	@missing=""; for p in $(DEPS_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to apt-get install$$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BUILD)/lsnitch.bpf.o: bpf/lsnitch.bpf.c $(wildcard bpf/*.h) $(HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/lsnitch.skel.h: $(BUILD)/lsnitch.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name lsnitch_bpf > $@

$(BUILD)/rules/%.o: rules/%.c $(HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/librules.a: $(RULES_OBJ)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/agent/%.o: agent/%.c $(HDRS) $(BUILD)/lsnitch.skel.h | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Iagent -c $< -o $@

$(BUILD)/lsnitch-agent: $(AGENT_OBJ) $(BUILD)/librules.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_AGENT)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/librules.a $(HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $< $(BUILD)/librules.a -lcmocka -linih -lresolv -lxxhash

$(BUILD)/bench/%: bench/%.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $<

$(BUILD):
	$(Q)mkdir -p $@

# Validate the example configuration (no root needed).
check: all
	$(BUILD)/lsnitch-agent --check --config examples/lsnitch.ini --rules examples/rules.d \
		--units examples/units.d

# Runs the agent in the foreground on the example blocklists, guarding the
# whole machine (cgroup v2 root). Ctrl-C stops it and removes everything.
run: all
	$(BUILD)/lsnitch-agent --blocked-hosts examples/blocked_hosts.txt \
		--blocked-domains examples/blocked_domains.txt $(ARGS)

test-unit: all
	$(Q)tests/run-tests.sh unit

test-e2e: all
	$(Q)tests/run-tests.sh e2e

test: all
	$(Q)tests/run-tests.sh all

bench: all
	$(Q)bench/run-bench.sh

install: all
	install -D -m 0755 $(BUILD)/lsnitch-agent $(DESTDIR)$(PREFIX)/sbin/lsnitch-agent

format:
	clang-format -i $(RULES_SRC) $(AGENT_SRC) bpf/*.c include/*.h rules/*.h

clean:
	rm -rf $(BUILD)
