#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Containers: a glob policy (machine.slice/libpod-*.scope) covers every
# container cgroup as it appears. 200 containers are made in one burst after
# the agent started (and a nested cgroup inside some): every one is bound
# (one map entry each, the nested ones inherit), every one is denied per the
# policy with an event naming its own cgroup; non-matching siblings are
# unaffected; once all are removed, the map holds nothing. Then "**" with a
# deeper exact path: the deepest bound cgroup wins for its whole subtree.
. "$(dirname "$0")/lib.sh"
lsn_setup
require_bpftool
N=200
MS=$CG/guard/machine.slice

read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --tcp "127.0.0.3:$P1"

INI=$TMPD/containers.ini
write_file "$INI" <<EOF
[policy containers]
cgroup = $CGREL/guard/machine.slice/libpod-*.scope
default = allow
deny = 127.0.0.2

[policy pods]
cgroup = $CGREL/guard/kube/**
default = allow
deny = 127.0.0.3

[policy pod1]
cgroup = $CGREL/guard/kube/pod1
default = allow
deny = 127.0.0.2
EOF
LC=containers.ini:$(line_of "$INI" "deny = 127.0.0.2")
LP=containers.ini:$(line_of "$INI" "deny = 127.0.0.3")
L1=containers.ini:$(($(line_of "$INI" "[policy pod1]") + 3))

start_agent --config "$INI"
assert_eq "map entries before any container runs" 0 "$(cgroup_policy_dump | wc -l)"

log "$N containers in one burst (machine.slice made with them)"
dirs=()
for ((i = 1; i <= N; i++)); do dirs+=("$MS/libpod-$i.scope"); done
mkdir -p "$MS" && mkdir "${dirs[@]}" "$MS/podman-1.scope" "$MS/libpod-1.scopeX" &&
	mkdir "$MS/libpod-1.scope/inner" "$MS/libpod-100.scope/inner" \
		"$MS/libpod-$N.scope/inner" "$MS/libpod-$N.scope/inner/deeper" ||
	die "cannot make the container cgroups"
if wait_map_entries "$N" 5; then
	ok "all $N containers bound, one map entry each"
else
	fail "expected $N map entries, found $(cgroup_policy_dump | wc -l)"
fi
want=$(for d in "${dirs[@]}"; do printf '%s 1\n' "$(cgroup_id "$d")"; done | sort -n)
assert_eq "the map holds exactly the containers' ids, bound to policy 1" "$want" \
	"$(cgroup_policy_dump)"

log "each container is denied per the policy"
client_expect guard/machine.slice/libpod-1.scope EPERM deny containers "$LC" rule -- \
	tcp 127.0.0.2 "$P1"
client_expect guard/machine.slice/libpod-1.scope ok -- tcp 127.0.0.3 "$P1"
client_expect guard/machine.slice/libpod-$N.scope/inner/deeper EPERM deny containers "$LC" \
	rule -- tcp 127.0.0.2 "$P1"
client_expect guard/machine.slice/libpod-100.scope/inner EPERM deny containers "$LC" \
	rule -- tcp 127.0.0.2 "$P1"
# Every container, quickly: a forked child per container moves itself there
# and connects (the policy follows the calling task's cgroup; a process of
# its own per container, as in real containers, so no event is rate-limited).
ev_mark
out=$("$PY" - "$MS" "$N" "$P1" <<'PYEOF'
import errno, os, socket, sys
ms, n, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
res = {}
for i in range(1, n + 1):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            with open("%s/libpod-%d.scope/cgroup.procs" % (ms, i), "w") as f:
                f.write("0")
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.connect(("127.0.0.2", port))
                word = "ok"
            except OSError as e:
                word = errno.errorcode.get(e.errno, str(e.errno))
        except Exception as e:
            word = "ERROR:" + type(e).__name__
        os.write(w, word.encode())
        os._exit(0)
    os.close(w)
    word = os.read(r, 64).decode() or "NOTHING"
    os.close(r)
    os.waitpid(pid, 0)
    res[word] = res.get(word, 0) + 1
print(" ".join("%s=%d" % kv for kv in sorted(res.items())))
PYEOF
)
assert_eq "connect() from each of the $N containers" "EPERM=$N" "$out"
DENY_RE="^deny tcp 127[.]0[.]0[.]2:$P1 .* cgroup=/$(re_escape "$CGREL")/guard/machine[.]slice/libpod-[0-9]+[.]scope policy=containers rule=([^ ]*/)?$(re_escape "$LC") reason=rule hook=connect4\$"
t=$((EVENT_TIMEOUT * 20))
while [ "$(events_since_mark | grep -Ec -- "$DENY_RE")" -lt "$N" ] && [ "$t" -gt 0 ]; do
	sleep 0.05
	t=$((t - 1))
done
got=$(events_since_mark | grep -E -- "$DENY_RE" | sed -n 's/.* cgroup=[^ ]*\/libpod-\([0-9]*\)[.]scope .*/\1/p' |
	sort -un | wc -l)
assert_eq "containers with a deny event naming their own cgroup" "$N" "$got"
EV_MATCHED=$((EV_MATCHED + $(events_since_mark | grep -c '^deny ')))

log "siblings that do not match"
client_expect guard/machine.slice/podman-1.scope ok -- tcp 127.0.0.2 "$P1"
client_expect guard/machine.slice/libpod-1.scopeX ok -- tcp 127.0.0.2 "$P1"
client_expect guard/machine.slice ok -- tcp 127.0.0.2 "$P1"
client_expect outside ok -- tcp 127.0.0.2 "$P1"

log "all containers removed"
remove_cg_tree "$MS" || die "cannot remove $MS"
if wait_map_entries 0 5; then
	ok "no map entries left"
else
	fail "map entries left: $(cgroup_policy_dump | wc -l)"
fi

log "'**' and a deeper exact path: the deepest bound cgroup wins, its subtree included"
make_cg guard/kube/pod1/c1 guard/kube/pod2/c1
client_expect guard/kube/pod2/c1 EPERM deny pods "$LP" rule -- tcp 127.0.0.3 "$P1"
client_expect guard/kube EPERM deny pods "$LP" rule -- tcp 127.0.0.3 "$P1"
client_expect guard/kube/pod1/c1 EPERM deny pod1 "$L1" rule -- tcp 127.0.0.2 "$P1"
client_expect guard/kube/pod1/c1 ok -- tcp 127.0.0.3 "$P1"
want=$(printf '%s 2\n%s 3\n' "$(cgroup_id "$CG/guard/kube")" "$(cgroup_id "$CG/guard/kube/pod1")")
assert_eq "map: kube (the top of '**') and kube/pod1, nothing below" "$(sort -n <<<"$want")" \
	"$(cgroup_policy_dump)"
remove_cg_tree "$CG/guard/kube" || die "cannot remove $CG/guard/kube"
wait_map_entries 0 5 || fail "map entries left: $(cgroup_policy_dump | wc -l)"
log "a container made again after the burst is bound again"
make_cg guard/machine.slice/libpod-7.scope
client_expect guard/machine.slice/libpod-7.scope EPERM deny containers "$LC" rule -- \
	tcp 127.0.0.2 "$P1"
assert_no_match "no warnings or errors from the agent" 'warning|error|cannot' "$(cat "$AGENT_ERR")"
assert_no_other_events
finish
