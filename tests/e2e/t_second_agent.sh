#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A second agent started by mistake on the same pin directory fails to start
# (the first one's DNS proxy serves the pinned maps) and leaves the first one's enforcement
# as it was: the pinned maps and links stay, and the DNS redirect is not
# switched off, so a blocked name stays blocked right after the second exits.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a

command -v dnsmasq >/dev/null || skip_env "dnsmasq is not installed (make deps installs it)"
command -v dig >/dev/null || skip_env "dig is not installed (make deps installs it)"

DNS4=127.0.0.157
start_dnsmasq "$DNS4" ok.test 127.0.0.15 --address=/blocked.test/127.0.0.14 \
	--host-record=ok.test,127.0.0.15
assert_eq "dnsmasq answers" 127.0.0.15 "$(dig +short +time=1 +tries=1 @$DNS4 ok.test)"

write_file "$TMPD/domains.txt" <<<"blocked.test"
write_file "$TMPD/p.ini" <<EOF
[policy a]
cgroup = $CGREL/guard/a
EOF
start_agent --config "$TMPD/p.ini" --blocked-domains "$TMPD/domains.txt" \
	--control "$TMPD/ctl.sock"
status_of() {
	in_cg "$CG/guard/a" dig +time=2 +tries=1 @$DNS4 "$1" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}
assert_eq "the first agent blocks the name" NXDOMAIN "$(status_of blocked.test)"
PIN=/sys/fs/bpf/$LSN_TAG
maps_before=$(ls "$PIN/maps" | sort | tr '\n' ' ')
links_before=$(ls "$PIN/links" | sort | tr '\n' ' ')

log "a second agent on the same pin directory"
"$AGENT" --cgroup "$CG/guard" --pin-dir "$PIN" --history none --config "$TMPD/p.ini" \
	--blocked-domains "$TMPD/domains.txt" --control "$TMPD/ctl2.sock" \
	>"$TMPD/second.out" 2>"$TMPD/second.err"
assert_eq "the second agent fails to start" 1 "$?"
assert_match "and says why" "another agent \(pid $AGENT_PID\) runs the DNS proxy" \
	"$(cat "$TMPD/second.err")"
assert_eq "the pinned maps stay" "$maps_before" "$(ls "$PIN/maps" 2>/dev/null | sort | tr '\n' ' ')"
assert_eq "the pinned links stay" "$links_before" \
	"$(ls "$PIN/links" 2>/dev/null | sort | tr '\n' ' ')"
assert_eq "right after it, the name is still blocked (redirect not switched off)" NXDOMAIN \
	"$(status_of blocked.test)"
assert_eq "and other names still resolve" NOERROR "$(status_of ok.test)"
if proc_alive "$AGENT_PID"; then ok "the first agent runs on"; else fail "the first agent died"; fi
stop_agent
finish
