#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-tests.sh unit|e2e|all: run lsnitch's tests.
#
#   unit  every build/tests/test_* binary (cmocka); each binary is one test,
#         passing when it exits 0 (its output is shown when it fails). A
#         tests/unit/test_*.c without its binary fails ("not built").
#   e2e   every tests/e2e/t_*.sh: exit 0 passes, 77 skips (reason printed),
#         anything else fails. Each test's log is kept in build/test-logs/
#         (with the agent's stdout/stderr and configs in build/test-logs/NAME/)
#         and its tail is printed on failure.
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
	echo "usage: $0 unit|e2e|all" >&2
	exit 2
}

selected() {
	[ -z "$ONLY" ] && return 0
	case " $ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

pass_() {
	passed=$((passed + 1))
	echo "PASS $1"
}
fail_() {
	failed=$((failed + 1))
	echo "FAIL $1"
	[ -z "${2:-}" ] || echo "    $2"
}
skip_() {
	skipped=$((skipped + 1))
	echo "SKIP $1: $2"
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

case $MODE in
unit) run_unit ;;
e2e) run_e2e ;;
all)
	run_unit
	run_e2e
	;;
*) usage ;;
esac

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
