# SPDX-License-Identifier: GPL-2.0
# lsnitch: cgroup-scoped per-application firewall (eBPF + C agent).
# `make` builds into build/, `make test` runs unit + end-to-end tests,
# `make run` runs the agent on the example lists, `make bench` measures.

.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
# Installation layout (make install / uninstall); every path is below $(DESTDIR).
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
# systemd reads units from /usr/local/lib/systemd/system and /usr/lib/systemd/system alike
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
CONFDIR    := $(SYSCONFDIR)/lsnitch
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
LDLIBS_AGENT := -lbpf -lelf -lz -lsystemd -linih -lresolv -lxxhash -ljson-c -lsqlite3
LDLIBS_CLI   := -ljson-c -lsqlite3
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall \
	      -I/usr/include/$(ARCH)-linux-gnu -Iinclude

# Debian packages the build, tests and benchmarks need.
DEPS_PKGS := clang llvm gcc make pkg-config libbpf-dev libelf-dev zlib1g-dev \
	     libsystemd-dev libinih-dev libcmocka-dev bpftool iproute2 util-linux \
	     curl python3 dnsutils socat libxxhash-dev dnsmasq dnsperf \
	     libjson-c-dev groff-base libmicrohttpd-dev python3-prometheus-client libsqlite3-dev \
	     libcurl4-openssl-dev systemd-container debhelper dpkg-dev lintian

RULES_SRC  := $(sort $(wildcard rules/*.c))
RULES_OBJ  := $(patsubst rules/%.c,$(BUILD)/rules/%.o,$(RULES_SRC))
AGENT_SRC  := $(sort $(wildcard agent/*.c))
AGENT_OBJ  := $(patsubst agent/%.c,$(BUILD)/agent/%.o,$(AGENT_SRC))
# cli/ is the lsnitch command: a program of its own that talks to the agent's socket.
CLI_SRC    := $(sort $(wildcard cli/*.c))
CLI_OBJ    := $(patsubst cli/%.c,$(BUILD)/cli/%.o,$(CLI_SRC))
# The history database's code (agent/): the writer's, and the query plan the CLI shares.
HISTORY_OBJ := $(BUILD)/agent/history.o $(BUILD)/agent/history_rollup.o \
	       $(BUILD)/agent/history_plan.o
CLI_HDRS   := $(wildcard cli/*.h)
# The CLI's connection to the agent, also linked by lsnitch-web: one client of the socket.
CTL_OBJ    := $(BUILD)/cli/conn.o $(BUILD)/cli/printable.o
# The history queries and learn's policy, also linked by the agent (its history/learn commands).
HIST_OBJ   := $(BUILD)/cli/histdb.o $(BUILD)/cli/learn_policy.o $(BUILD)/cli/learn_exe.o \
	      $(BUILD)/cli/learn_run.o $(BUILD)/agent/history_plan.o
# web/ is lsnitch-web: the web UI and /metrics, another client of the socket.
WEB_SRC    := $(sort $(wildcard web/*.c))
WEB_OBJ    := $(patsubst web/%.c,$(BUILD)/web/%.o,$(WEB_SRC))
WEB_HDRS   := $(wildcard web/*.h)
DATADIR    ?= $(PREFIX)/share
WEBROOT    := $(DATADIR)/lsnitch/webroot
COMPLETIONDIR ?= $(DATADIR)/bash-completion/completions
LDLIBS_WEB := -lmicrohttpd -ljson-c -lpthread
# update/ is lsnitch-update: the list downloader (libcurl), unprivileged, never in the agent.
UPDATE_SRC := $(sort $(wildcard update/*.c))
UPDATE_OBJ := $(patsubst update/%.c,$(BUILD)/update/%.o,$(UPDATE_SRC))
LDLIBS_UPDATE := -lcurl -linih -lresolv -lxxhash -ljson-c
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCH_SRC  := $(filter-out %.bpf.c,$(sort $(wildcard bench/*.c)))
BENCH_BIN  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
BENCH_BPF  := $(BUILD)/bench/noop.bpf.o $(BUILD)/bench/one_lookup.bpf.o $(BUILD)/bench/who_lookup.bpf.o
HDRS       := $(wildcard include/*.h) $(wildcard rules/*.h) $(wildcard agent/*.h)

.PHONY: all deps test-debs agent unit test test-unit test-e2e bench run check install uninstall clean format

all: deps agent $(BUILD)/lsnitch-web $(BUILD)/lsnitch-update $(UNIT_BIN) $(BENCH_BIN) $(BENCH_BPF)

agent: $(BUILD)/lsnitch-agent $(BUILD)/lsnitch

# Installs what is missing, nothing else; a no-op when all is present.
deps: test-debs
	@missing=""; for p in $(DEPS_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to apt-get install$$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Packages the tests unpack but must never install (libnss-resolve's postinst
# edits the host's /etc/nsswitch.conf): downloaded into $(BUILD)/debs only,
# tried once per build directory (offline, the tests that need them skip).
TEST_DEBS := libnss-resolve
test-debs:
	@mkdir -p $(BUILD)/debs; for p in $(TEST_DEBS); do \
		[ -e $(BUILD)/debs/.tried-$$p ] && continue; touch $(BUILD)/debs/.tried-$$p; \
		(cd $(BUILD)/debs && apt-get download $$p >/dev/null 2>&1) || \
			echo "make deps: cannot download $$p (its test will skip)" >&2; \
	done
# The browser test's (tests/e2e/t_web_browser.sh) packages: large, so not part of `deps`;
# the test skips, saying so, without them.
BROWSER_PKGS := chromium chromium-driver python3-selenium
.PHONY: deps-browser
deps-browser:
	$(Q)$(MAKE) --no-print-directory deps DEPS_PKGS="$(BROWSER_PKGS)"

$(BUILD)/lsnitch.bpf.o: bpf/lsnitch.bpf.c $(wildcard bpf/*.h) $(HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/who_lookup.bpf.o: bench/one_lookup.bpf.c
$(BUILD)/bench/%.bpf.o: bench/%.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/lsnitch.skel.h: $(BUILD)/lsnitch.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name lsnitch_bpf > $@

$(BUILD)/rules/%.o: rules/%.c $(HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/librules.a: $(RULES_OBJ)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/agent/%.o: agent/%.c $(HDRS) $(CLI_HDRS) $(BUILD)/lsnitch.skel.h | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Iagent -c $< -o $@

$(BUILD)/lsnitch-agent: $(AGENT_OBJ) $(BUILD)/libhist.a $(BUILD)/librules.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_AGENT)

# The CLI shares the socket's default path (agent.h) and the history's query plan with the agent.
$(BUILD)/cli/%.o: cli/%.c $(HDRS) $(CLI_HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Iagent -c $< -o $@

$(BUILD)/libctl.a: $(CTL_OBJ)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/libhist.a: $(HIST_OBJ)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/lsnitch: $(filter-out $(CTL_OBJ) $(HIST_OBJ),$(CLI_OBJ)) $(BUILD)/libhist.a \
		  $(BUILD)/librules.a $(BUILD)/libctl.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_CLI)

$(BUILD)/web/%.o: web/%.c $(HDRS) $(CLI_HDRS) $(WEB_HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Iagent -DLN_WEBROOT='"$(WEBROOT)"' -c $< -o $@

$(BUILD)/lsnitch-web: $(WEB_OBJ) $(BUILD)/libctl.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_WEB)

$(BUILD)/update/%.o: update/%.c $(HDRS) $(CLI_HDRS) $(wildcard update/*.h) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Iagent -c $< -o $@

$(BUILD)/lsnitch-update: $(UPDATE_OBJ) $(BUILD)/librules.a $(BUILD)/libctl.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_UPDATE)

# Unit tests link the rules library; those of the control protocol also its pure helpers.
$(BUILD)/tests/test_control_proto: TEST_EXTRA = $(BUILD)/agent/control_proto.o -ljson-c
$(BUILD)/tests/test_control_proto: $(BUILD)/agent/control_proto.o
$(BUILD)/tests/test_history: TEST_EXTRA = $(HISTORY_OBJ) -lsqlite3
$(BUILD)/tests/test_history: $(HISTORY_OBJ)
$(BUILD)/tests/test_history_exe: TEST_EXTRA = $(HISTORY_OBJ) $(BUILD)/cli/histdb.o -lsqlite3 -ljson-c
$(BUILD)/tests/test_history_exe: $(HISTORY_OBJ) $(BUILD)/cli/histdb.o
LEARN_TEST_OBJ := $(HISTORY_OBJ) $(filter-out $(BUILD)/agent/history_plan.o,$(HIST_OBJ))
$(BUILD)/tests/test_learn_run: TEST_EXTRA = $(LEARN_TEST_OBJ) -lsqlite3 -ljson-c
$(BUILD)/tests/test_learn_run: $(LEARN_TEST_OBJ)
$(BUILD)/tests/test_reload_worker: TEST_EXTRA = $(BUILD)/agent/reload_worker.o -lsystemd
$(BUILD)/tests/test_reload_worker: $(BUILD)/agent/reload_worker.o
$(BUILD)/tests/test_tracefs: TEST_EXTRA = $(BUILD)/agent/tracefs.o
$(BUILD)/tests/test_tracefs: $(BUILD)/agent/tracefs.o
$(BUILD)/tests/test_list_change: TEST_EXTRA = $(BUILD)/agent/list_change.o
$(BUILD)/tests/test_list_change: $(BUILD)/agent/list_change.o

$(BUILD)/tests/test_bound_index: TEST_EXTRA = $(BUILD)/agent/watch_index.o
$(BUILD)/tests/test_bound_index: $(BUILD)/agent/watch_index.o
$(BUILD)/tests/test_watch_wd: TEST_EXTRA = $(BUILD)/agent/watch_wd.o
$(BUILD)/tests/test_watch_wd: $(BUILD)/agent/watch_wd.o

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/librules.a $(HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Iagent -o $@ $< $(TEST_EXTRA) $(BUILD)/librules.a \
		-lcmocka -linih -lresolv -lxxhash

$(BUILD)/bench/%: bench/%.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $<

# Bench programs named *_rules.c time the rules library: linked with librules.a.
# (GNU make takes the pattern with the shorter stem, so this one wins for them.)
$(BUILD)/bench/%_rules: bench/%_rules.c $(BUILD)/librules.a $(HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $< $(BUILD)/librules.a -linih -lresolv -lxxhash

# The verdict bench's floor: a loader of its own (libbpf).
$(BUILD)/bench/one_lookup: bench/one_lookup.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $< -lbpf -lelf -lz

# The reload bench's verifier figures: loads build/lsnitch.bpf.o with libbpf, attaches nothing.
$(BUILD)/bench/verifier_stats: bench/verifier_stats.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $< -lbpf -lelf -lz

# The scale bench's burst of containers reads the agent's cgroup_policy map (libbpf).
$(BUILD)/bench/cg_burst: bench/cg_burst.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $< -lbpf -lelf -lz -lpthread

# The history bench writes through the agent's own history code.
$(BUILD)/bench/history_fill: bench/history_fill.c $(HISTORY_OBJ) $(BUILD)/librules.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Iagent -o $@ $^ -lsqlite3

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

MAN8 := agent/lsnitch-agent.8 cli/lsnitch.8 web/lsnitch-web.8 update/lsnitch-update.8
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
WEBROOT_FILES := $(sort $(wildcard webroot/*))
# The paths in the units, rewritten to where make install puts things.
UNIT_SED := -e 's|/usr/local/sbin/|$(SBINDIR)/|g' -e 's|/usr/local/bin/|$(BINDIR)/|g' \
	    -e 's|/usr/local/share/lsnitch/webroot|$(WEBROOT)|g' -e 's|/etc/lsnitch/|$(CONFDIR)/|g'
MAN5 := rules/lsnitch.ini.5 rules/lsnitch-lists.5
CONF_FILES := lsnitch.ini blocked_hosts.txt blocked_domains.txt doh-resolvers.txt rules.d/README \
	      units.d/README

# The default configuration, as installed: the example [global] pointing at the
# lists in $(CONFDIR), the example lists with every entry commented out (the
# DoH list as it is: only encrypted-dns = deny reads it), and
# empty rules.d/ and units.d/ with a README each. Made afresh on every
# install/uninstall (it depends on CONFDIR).
define make_conf
	$(Q)rm -rf $(BUILD)/etc && mkdir -p $(BUILD)/etc/rules.d $(BUILD)/etc/units.d
	$(Q)sed -e 's|^\(blocked-[a-z]* = \)\([^/]\)|\1$(CONFDIR)/\2|' \
		-e 's|^\(doh-resolvers = \)\([^/]\)|\1$(CONFDIR)/\2|' examples/lsnitch.ini \
		>$(BUILD)/etc/lsnitch.ini
	$(Q)cp examples/doh-resolvers.txt $(BUILD)/etc/doh-resolvers.txt
	$(Q)for f in blocked_hosts.txt blocked_domains.txt; do \
		{ echo "# Installed with every entry commented out: uncomment or add your own."; \
		  sed -e 's|^\([^#[:space:]]\)|# \1|' examples/$$f; } >$(BUILD)/etc/$$f; done
	$(Q)cp examples/install/rules.d-README $(BUILD)/etc/rules.d/README
	$(Q)cp examples/install/units.d-README $(BUILD)/etc/units.d/README
endef

# Binaries, man pages and the unit (its paths rewritten to PREFIX and
# CONFDIR); configuration files only where none exists: an administrator's
# edits survive every install.
install: agent $(BUILD)/lsnitch-web $(BUILD)/lsnitch-update
	$(make_conf)
	install -D -m 0755 $(BUILD)/lsnitch-agent $(DESTDIR)$(SBINDIR)/lsnitch-agent
	install -D -m 0755 $(BUILD)/lsnitch-update $(DESTDIR)$(SBINDIR)/lsnitch-update
	install -D -m 0755 $(BUILD)/lsnitch $(DESTDIR)$(BINDIR)/lsnitch
	install -D -m 0755 $(BUILD)/lsnitch-web $(DESTDIR)$(BINDIR)/lsnitch-web
	install -d -m 0755 $(DESTDIR)$(WEBROOT) $(DESTDIR)$(UNITDIR)/lsnitch-agent.service.d
	install -m 0644 $(WEBROOT_FILES) $(DESTDIR)$(WEBROOT)/
	install -D -m 0644 systemd/lsnitch-web.sysusers $(DESTDIR)$(SYSUSERSDIR)/lsnitch-web.conf
	install -D -m 0644 systemd/lsnitch.sysusers $(DESTDIR)$(SYSUSERSDIR)/lsnitch.conf
	for u in lsnitch-web.service lsnitch-agent.service.d/web.conf lsnitch-update.service \
		lsnitch-update.timer; do \
		sed $(UNIT_SED) systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	@# the units need their users and group now, not at the next boot: where systemd reads
	@# the files at boot, they are applied at once (never for a DESTDIR or another PREFIX)
	@case "$(DESTDIR)$(SYSUSERSDIR)" in /usr/lib/sysusers.d|/usr/local/lib/sysusers.d) \
		if command -v systemd-sysusers >/dev/null; then \
			echo "systemd-sysusers lsnitch.conf lsnitch-web.conf"; \
			systemd-sysusers $(SYSUSERSDIR)/lsnitch.conf $(SYSUSERSDIR)/lsnitch-web.conf; \
		fi ;; esac
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	sed $(UNIT_SED) systemd/lsnitch-agent.service >$(DESTDIR)$(UNITDIR)/lsnitch-agent.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/lsnitch-agent.service
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -D -m 0644 completion/lsnitch.bash $(DESTDIR)$(COMPLETIONDIR)/lsnitch
	install -D -m 0644 completion/lsnitch.bash $(DESTDIR)$(COMPLETIONDIR)/lsnitch-agent
	install -d -m 0755 $(DESTDIR)$(CONFDIR)/rules.d $(DESTDIR)$(CONFDIR)/units.d
	@for f in $(CONF_FILES); do \
		if [ -e "$(DESTDIR)$(CONFDIR)/$$f" ]; then \
			echo "install: keeping $(DESTDIR)$(CONFDIR)/$$f"; \
		else \
			echo "install -m 0644 $(BUILD)/etc/$$f $(DESTDIR)$(CONFDIR)/$$f"; \
			install -m 0644 $(BUILD)/etc/$$f "$(DESTDIR)$(CONFDIR)/$$f" || exit 1; \
		fi; \
	done

# Removes what install put in place; a configuration file is removed only if
# it is still the installed default (an edited one is kept, and said so).
uninstall:
	$(make_conf)
	rm -f $(DESTDIR)$(SBINDIR)/lsnitch-agent $(DESTDIR)$(BINDIR)/lsnitch \
		$(DESTDIR)$(UNITDIR)/lsnitch-agent.service \
		$(DESTDIR)$(BINDIR)/lsnitch-web $(DESTDIR)$(UNITDIR)/lsnitch-web.service \
		$(DESTDIR)$(SBINDIR)/lsnitch-update $(DESTDIR)$(UNITDIR)/lsnitch-update.service \
		$(DESTDIR)$(UNITDIR)/lsnitch-update.timer \
		$(DESTDIR)$(UNITDIR)/lsnitch-agent.service.d/web.conf \
		$(DESTDIR)$(SYSUSERSDIR)/lsnitch-web.conf $(DESTDIR)$(SYSUSERSDIR)/lsnitch.conf \
		$(DESTDIR)$(COMPLETIONDIR)/lsnitch $(DESTDIR)$(COMPLETIONDIR)/lsnitch-agent \
		$(addprefix $(DESTDIR)$(WEBROOT)/,$(notdir $(WEBROOT_FILES))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5)))
	@for f in $(CONF_FILES); do \
		d="$(DESTDIR)$(CONFDIR)/$$f"; \
		[ -e "$$d" ] || continue; \
		if cmp -s "$$d" $(BUILD)/etc/$$f; then rm -f "$$d"; \
		else echo "uninstall: keeping $$d (changed)"; fi; \
	done
	@rmdir $(DESTDIR)$(CONFDIR)/rules.d $(DESTDIR)$(CONFDIR)/units.d $(DESTDIR)$(CONFDIR) \
		$(DESTDIR)$(WEBROOT) $(DESTDIR)$(DATADIR)/lsnitch \
		$(DESTDIR)$(UNITDIR)/lsnitch-agent.service.d 2>/dev/null || true

# The Debian package (debian/): dpkg-buildpackage writes to ../, the files are moved
# to $(BUILD)/deb/ (t_deb.sh installs from there); lintian checks it.
DEB_OUT := lsnitch_$(VERSION)_*.deb lsnitch-dbgsym_$(VERSION)_*.deb lsnitch_$(VERSION)_*.buildinfo \
	   lsnitch_$(VERSION)_*.changes
.PHONY: deb
deb:
	$(Q)$(MAKE) --no-print-directory deps DEPS_PKGS="debhelper lintian dpkg-dev"
	@# debian/rules runs make with its own BUILD=: none of this make's variables
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -b -us -uc
	mkdir -p $(BUILD)/deb && cd .. && mv -f $(DEB_OUT) $(abspath $(BUILD))/deb/
	lintian --fail-on error $(BUILD)/deb/lsnitch_$(VERSION)_*.deb

format:
	clang-format -i $(RULES_SRC) $(AGENT_SRC) $(CLI_SRC) $(CLI_HDRS) $(WEB_SRC) $(WEB_HDRS) bpf/*.c include/*.h rules/*.h

clean:
	rm -rf $(BUILD)

# ---- Fuzzing: libFuzzer targets in tests/fuzz/, built with ASan + UBSan -------------------
# `make fuzz` builds every tests/fuzz/fuzz_*.c and runs each for FUZZ_SECONDS; `make test`
# runs each for FUZZ_SMOKE seconds (tests/run-tests.sh fuzz). What a run finds goes to
# $(BUILD)/fuzz/corpus/NAME (the committed seeds in tests/fuzz/corpus/NAME stay as they are),
# crashing inputs to $(BUILD)/fuzz/artifacts/.
.PHONY: fuzz fuzz-build
DEPS_PKGS    += libclang-rt-dev
FUZZ_SECONDS ?= 60
FUZZ_SMOKE   ?= 15
# what tests/run-tests.sh fuzz reads (make fuzz sets its own)
export LSN_FUZZ_SECONDS := $(FUZZ_SMOKE)
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRC))
# The code under test: the rules library and the control protocol's pure half.
FUZZ_OBJ     := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(RULES_SRC) agent/control_proto.c)
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Wno-unused-parameter \
		-D_GNU_SOURCE -Iinclude -Irules -Iagent \
		-fsanitize=address,undefined -fno-sanitize-recover=all

$(FUZZ_OBJ): $(FUZZ_DIR)/obj/%.o: %.c $(HDRS) | $(BUILD)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/librules-fuzz.a: $(FUZZ_OBJ)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(FUZZ_BIN): $(FUZZ_DIR)/%: tests/fuzz/%.c tests/fuzz/fuzz_common.h $(FUZZ_DIR)/librules-fuzz.a
	$(call msg,LD-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_DIR)/librules-fuzz.a \
		-linih -lresolv -lxxhash -ljson-c

fuzz-build: deps $(FUZZ_BIN)

fuzz: fuzz-build
	$(Q)BUILD=$(BUILD) LSN_FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run-tests.sh fuzz

# ---- Sanitizers: the agent and the unit tests built with ASan + UBSan into ASAN_BUILD ------
# A second tree, made by this Makefile itself with CC=clang and SANITIZE set; `make test`
# runs its unit tests and the agent's input-parsing e2e tests (tests/run-tests.sh asan).
.PHONY: asan asan-bins
ASAN_BUILD ?= $(BUILD)/asan
export LSN_ASAN_BUILD := $(ASAN_BUILD)
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SANITIZE   ?=
CFLAGS     += $(SANITIZE)

asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CC=$(CLANG) \
		SANITIZE="$(ASAN_FLAGS)" asan-bins

asan-bins: $(BUILD)/lsnitch-agent $(UNIT_BIN)

# make test: also the fuzz smoke and the sanitizer run (tests/run-tests.sh all runs them).
test: fuzz-build asan
