#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-tests.sh unit|e2e|fuzz|asan|all: run lsnitch's tests.
#
#   unit  every build/tests/test_* binary (cmocka); each binary is one test,
#         passing when it exits 0 (its output is shown when it fails). A
#         tests/unit/test_*.c without its binary fails ("not built").
#   e2e   every tests/e2e/t_*.sh: exit 0 passes, 77 skips (reason printed),
#         anything else fails. Each test's log is kept in build/test-logs/
#         (with the agent's stdout/stderr and configs in build/test-logs/NAME/)
#         and its tail is printed on failure.
#   fuzz  every tests/fuzz/fuzz_*.c target ($BUILD/fuzz/NAME, make fuzz-build)
#         for LSN_FUZZ_SECONDS (default 15) from its seeds in tests/fuzz/corpus/NAME
#         and what earlier runs found ($BUILD/fuzz/corpus/NAME); a crash, leak,
#         sanitizer report or timeout fails it (input in $BUILD/fuzz/artifacts/).
#   asan  the unit tests of the ASan + UBSan tree (LSN_ASAN_BUILD, default
#         $BUILD/asan: make asan) and the e2e tests LSN_ASAN_E2E (default t_check,
#         t_control, t_dns: the agent parsing files, requests and DNS messages)
#         with its agent; any sanitizer report fails ("asan/reports"). Tests
#         see LSN_SANITIZER=asan then: ASan cannot run under `ulimit -v`.
#   all   unit, e2e, fuzz and asan.
#
# The last line is exactly "N passed, N failed, N skipped"; the exit status
# is non-zero when anything failed. End-to-end tests need root (they load BPF
# programs); without it they skip loudly, and with CI=true in the environment
# such a skip counts as a failure.
#
# Environment: BUILD (default build), LSN_TEST_TIMEOUT (seconds per test,
# default 120), LSN_TESTS (space-separated names to run, default all).
set -u

MODE=${1:-all}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
LOGDIR=$BUILD/test-logs
TIMEOUT=${LSN_TEST_TIMEOUT:-120}
ONLY=${LSN_TESTS:-}

passed=0 failed=0 skipped=0

usage() {
	echo "usage: $0 unit|e2e|fuzz|asan|all" >&2
	exit 2
}

selected() {
	[ -z "$ONLY" ] && return 0
	case " $ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

# LABEL: a suite's prefix to the names it reports ("asan/").
LABEL=
pass_() {
	passed=$((passed + 1))
	echo "PASS $LABEL$1"
}
fail_() {
	failed=$((failed + 1))
	echo "FAIL $LABEL$1"
	[ -z "${2:-}" ] || echo "    $2"
}
skip_() {
	skipped=$((skipped + 1))
	echo "SKIP $LABEL$1: $2"
}

run_unit() {
	local bin name log rc src seen=" "
	mkdir -p "$LOGDIR" || exit 2
	for bin in "$BUILD"/tests/test_*; do
		[ -f "$bin" ] || continue
		[ -x "$bin" ] || continue
		name=${bin##*/}
		selected "$name" || continue
		seen+="$name "
		log=$LOGDIR/unit-$name.log
		timeout --kill-after=10 "$TIMEOUT" "$bin" >"$log" 2>&1
		rc=$?
		if [ "$rc" = 0 ]; then
			pass_ "$name"
		else
			fail_ "$name" "exit status $rc"
			sed 's/^/    | /' "$log"
		fi
	done
	for src in "$ROOT"/tests/unit/test_*.c; do
		[ -f "$src" ] || continue
		name=${src##*/}
		name=${name%.c}
		selected "$name" || continue
		case $seen in *" $name "*) continue ;; esac
		fail_ "$name" "not built ($BUILD/tests/$name missing: run make)"
	done
	[ "$seen" != " " ] || echo "run-tests.sh: warning: no unit test binaries in $BUILD/tests" >&2
}

run_e2e() {
	local t name log rc reason
	mkdir -p "$LOGDIR" || exit 2
	# One agent at a time on a machine: the DNS proxy's ports and the BPF
	# stats are machine-wide. Other runs (worktrees, make bench) wait here.
	exec 9>/tmp/lsnitch-e2e.lock
	flock 9
	if [ "$(id -u)" != 0 ]; then
		echo "################################################################"
		echo "# run-tests.sh: NOT ROOT: end-to-end tests that load BPF will SKIP"
		[ "${CI:-}" = true ] && echo "# CI=true: those skips count as FAILURES"
		echo "################################################################"
	fi
	for t in "$ROOT"/tests/e2e/t_*.sh; do
		[ -f "$t" ] || continue
		name=${t##*/}
		name=${name%.sh}
		selected "$name" || continue
		log=$LOGDIR/$name.log
		rm -rf "${LOGDIR:?}/$name"
		LSN_ARTIFACTS=$LOGDIR/$name timeout --kill-after=10 "$TIMEOUT" bash "$t" >"$log" 2>&1 </dev/null
		rc=$?
		case $rc in
		0) pass_ "$name" ;;
		77)
			reason=$(sed -n 's/^SKIP: //p' "$log" | tail -n 1)
			[ -n "$reason" ] || reason="(no reason given)"
			if [ "${CI:-}" = true ] && grep -q '^LSNITCH-SKIP-ENV: ' "$log"; then
				fail_ "$name" "skipped under CI=true: $reason"
			else
				skip_ "$name" "$reason"
			fi
			;;
		*)
			[ "$rc" = 124 ] && echo "    (timed out after ${TIMEOUT}s)"
			fail_ "$name" "exit status $rc, log: $log"
			tail -n 40 "$log" | sed 's/^/    | /'
			;;
		esac
	done
}

# One fuzz target for $secs seconds; its log is $LOGDIR/NAME.log.
run_fuzz_target() {
	local name=$1 secs=$2 bin=$BUILD/fuzz/$1 log=$LOGDIR/$1.log dict=() rc runs
	local corpus=$BUILD/fuzz/corpus/$name arts=$BUILD/fuzz/artifacts

	if [ ! -x "$bin" ]; then
		fail_ "$name" "not built ($bin missing: run make fuzz-build)"
		return
	fi
	mkdir -p "$corpus" "$arts" || exit 2
	[ -f "$ROOT/tests/fuzz/$name.dict" ] && dict=(-dict="$ROOT/tests/fuzz/$name.dict")
	# new inputs go to the first directory only: the committed seeds stay as they are
	timeout --kill-after=10 $((secs + 120)) "$bin" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$arts/$name-" \
		"${dict[@]}" "$corpus" "$ROOT/tests/fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" = 0 ]; then
		pass_ "$name" && echo "    ${runs:-?} runs in ${secs}s"
	else
		fail_ "$name" "exit status $rc, log: $log"
		grep -E -A 30 '^==[0-9]+==|runtime error|fuzz invariant|^artifact_prefix|Test unit written' \
			"$log" | head -n 40 | sed 's/^/    | /'
	fi
}

run_fuzz() {
	local src name secs=${LSN_FUZZ_SECONDS:-15}

	mkdir -p "$LOGDIR" || exit 2
	for src in "$ROOT"/tests/fuzz/fuzz_*.c; do
		[ -f "$src" ] || continue
		name=${src##*/}
		name=${name%.c}
		selected "$name" || continue
		run_fuzz_target "$name" "$secs"
	done
}

# The unit tests and LSN_ASAN_E2E again, built with ASan + UBSan; reports are kept as files.
run_asan() {
	local BUILD=${LSN_ASAN_BUILD:-$BUILD/asan} LABEL=asan/ e2e="" t
	local LOGDIR ONLY=$ONLY reports
	# exit status 86 whatever the program would have said: --check's "1" must not hide a report
	local -x ASAN_OPTIONS UBSAN_OPTIONS
	local -x LSNITCH_AGENT LSN_SANITIZER=asan

	case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
	LOGDIR=$BUILD/test-logs
	reports=$LOGDIR/sanitizer
	ASAN_OPTIONS="log_path=$reports/asan:exitcode=86:detect_leaks=1:abort_on_error=0"
	UBSAN_OPTIONS="log_path=$reports/ubsan:exitcode=86:print_stacktrace=1:halt_on_error=1"
	LSNITCH_AGENT=$BUILD/lsnitch-agent
	if [ ! -x "$LSNITCH_AGENT" ]; then
		fail_ build "$LSNITCH_AGENT missing: run make asan"
		return
	fi
	rm -rf "$reports"
	# the agent runs as nobody in t_check: it writes its reports here too
	mkdir -p "$reports" && chmod 1777 "$reports" || exit 2
	run_unit
	for t in ${LSN_ASAN_E2E:-t_check t_control t_dns}; do
		selected "$t" && e2e+="$t "
	done
	[ -z "$e2e" ] || ONLY=$e2e run_e2e
	if compgen -G "$reports/*" >/dev/null; then
		fail_ reports "sanitizer reports in $reports:"
		head -n 30 "$reports"/* | sed 's/^/    | /'
	else
		pass_ reports
	fi
}

case $MODE in
unit) run_unit ;;
e2e) run_e2e ;;
fuzz) run_fuzz ;;
asan) run_asan ;;
all)
	run_unit
	run_e2e
	run_fuzz
	run_asan
	;;
*) usage ;;
esac

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
