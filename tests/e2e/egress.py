#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Attacks on the packet path, and the sniffer that judges them (t_egress.sh).

    egress.py sniff IFACE [--timeout SEC]
        AF_PACKET sniffer: for every frame on IFACE whose payload holds a
        marker (b"LSNMARK-..."), prints "seen MARKER dst=ADDR proto=N"; for a
        TCP SYN, "seen syn-PORT dst=ADDR proto=6".
        Prints "ready" once listening; stops by itself after --timeout.

    egress.py send KIND --to ADDR --marker M [--via ADDR] [--port P] [--count N]
        One send from this process (N sends on one socket: a flood), the
        marker in the payload. Prints one word, as client.py does: ok, EPERM,
        or the errno name of the last send.
        KIND:
          udp        plain UDP sendto()
          tcp        TCP connect() + send()
          rthdr      UDP over IPv6 with a type 4 routing header (IPV6_RTHDR,
                     unprivileged): segments --via A[,B...] in order, then --to
          tcp-rthdr  TCP connect() with that routing header (the SYN carries
                     no marker: the sniffer reports SYNs as "syn-PORT")
          lsrr       UDP over IPv4 with a loose source route (IP_OPTIONS,
                     CAP_NET_RAW): hops --via A[,B...] in order, then --to
          ping       ICMP / ICMPv6 echo from a ping socket (SOCK_DGRAM)
          raw-icmp   ICMP / ICMPv6 echo from a raw socket (CAP_NET_RAW)
          raw-udp    a UDP datagram built by hand on a raw socket
          hdrincl    IPv4 header built by hand (IPPROTO_RAW): UDP inside

Only 127.0.0.0/8, ::1, 192.0.2.0/24 and 2001:db8::/32 are ever sent to
(exit status 2 otherwise), the same rule as client.py.
"""
import argparse
import errno
import ipaddress
import select
import socket
import struct
import sys
import time

MARK = b"LSNMARK-"
ALLOWED_NETS = [ipaddress.ip_network(n) for n in
                ("127.0.0.0/8", "::1/128", "192.0.2.0/24", "2001:db8::/32")]
IPV6_RTHDR = getattr(socket, "IPV6_RTHDR", 57)
IP_OPTIONS = getattr(socket, "IP_OPTIONS", 4)
ETH_P_ALL = 0x0003


def checked(addr):
    ip = ipaddress.ip_address(addr)
    if not any(ip in n for n in ALLOWED_NETS):
        print("egress.py: refusing to send to " + addr, file=sys.stderr)
        sys.exit(2)
    return ip


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def echo(v6, payload):
    kind = 128 if v6 else 8
    hdr = struct.pack("!BBHHH", kind, 0, 0, 0x4c53, 1)
    if v6:
        return hdr + payload  # the kernel sums ICMPv6
    return struct.pack("!BBHHH", kind, 0, csum(hdr + payload), 0x4c53, 1) + payload


def family(ip):
    return socket.AF_INET6 if ip.version == 6 else socket.AF_INET


def srh(via, final):
    """A type 4 routing header: segments in reverse order, the final first.

    The kernel sends to segments[segments_left] and writes the address given
    to sendto()/connect() into segments[0]."""
    segs = [final] + list(reversed(via))
    n = len(segs)
    # nexthdr, hdrlen (8-octet units), type 4, segments_left, last_entry, flags, tag
    return struct.pack("!BBBBBBH", 0, 2 * n, 4, n - 1, n - 1, 0, 0) + b"".join(
        ipaddress.ip_address(a).packed for a in segs)


def lsrr(via):
    """NOP + LSRR listing the hops: the kernel routes to the first and puts the
    final destination in the last slot."""
    hops = b"".join(ipaddress.ip_address(a).packed for a in via)
    return bytes([1, 0x83, 3 + len(hops), 4]) + hops


def ip4_udp(src, dst, port, payload):
    udp = struct.pack("!HHHH", 40000, port, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed)
    return ip + udp


def repeat(args, fn, *fargs):
    """fn(*fargs) --count times; the last failure is raised at the end."""
    err = None
    for _ in range(args.count):
        try:
            fn(*fargs)
        except OSError as e:
            err = e
    if err:
        raise err


def send(args):
    to = checked(args.to)
    via = args.via.split(",") if args.via else []
    for a in via:
        checked(a)
    payload = MARK + args.marker.encode() + b"\n"
    fam, v6 = family(to), to.version == 6
    dest = (args.to, args.port)
    kind = args.kind
    if kind in ("tcp", "tcp-rthdr"):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(3)
        if kind == "tcp-rthdr":
            # one SYN only: no retransmission within the timeout
            s.settimeout(0.5)
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RTHDR, srh(via, args.to))
        s.connect(dest)
        s.sendall(payload)
        return
    if kind in ("udp", "rthdr", "lsrr"):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if kind == "rthdr":
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RTHDR, srh(via, args.to))
        if kind == "lsrr":
            s.setsockopt(socket.IPPROTO_IP, IP_OPTIONS, lsrr(via))
        repeat(args, s.sendto, payload, dest)
        return
    if kind in ("ping", "raw-icmp"):
        proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
        st = socket.SOCK_DGRAM if kind == "ping" else socket.SOCK_RAW
        s = socket.socket(fam, st, proto)
        repeat(args, s.sendto, echo(v6, payload), (args.to, 0))
        return
    if kind == "raw-udp":
        s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_UDP)
        if v6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, 6)
        repeat(args, s.sendto,
               struct.pack("!HHHH", 40000, args.port, 8 + len(payload), 0) + payload,
               (args.to, 0))
        return
    if kind == "hdrincl":
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        s.sendto(ip4_udp(args.src, args.to, args.port, payload), (args.to, 0))
        return
    raise SystemExit("egress.py: unknown kind " + kind)


def frame_dst(frame):
    """(destination, protocol, transport offset) of an Ethernet frame holding
    IP, or None. IPv6 extension headers are walked."""
    etype = struct.unpack("!H", frame[12:14])[0]
    if etype == 0x0800 and len(frame) >= 34:
        return (socket.inet_ntop(socket.AF_INET, frame[30:34]), frame[23],
                14 + (frame[14] & 15) * 4)
    if etype != 0x86DD or len(frame) < 54:
        return None
    dst, nxt, off = socket.inet_ntop(socket.AF_INET6, frame[38:54]), frame[20], 54
    while nxt in (0, 43, 60) and off + 2 <= len(frame):
        nxt, off = frame[off], off + (frame[off + 1] + 1) * 8
    return dst, nxt, off


def syn_port(frame, hdr):
    """The destination port of a TCP SYN (not SYN-ACK), or None."""
    _, proto, off = hdr
    if proto != 6 or off + 14 > len(frame) or (frame[off + 13] & 0x12) != 0x02:
        return None
    return struct.unpack("!H", frame[off + 2:off + 4])[0]


def sniff(args):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((args.iface, 0))
    print("ready", flush=True)
    end = time.monotonic() + args.timeout
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.5)
        if not r:
            continue
        frame, addr = s.recvfrom(65535)
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        hdr = frame_dst(frame)
        if hdr is None:
            continue
        i = frame.find(MARK)
        if i >= 0:
            marker = frame[i + len(MARK):].split(b"\n")[0].decode(errors="replace")
        elif syn_port(frame, hdr) is not None:
            marker = "syn-%d" % syn_port(frame, hdr)
        else:
            continue
        print("seen %s dst=%s proto=%d" % (marker, hdr[0], hdr[1]), flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("sniff")
    sp.add_argument("iface")
    sp.add_argument("--timeout", type=float, default=600)
    sd = sub.add_parser("send")
    sd.add_argument("kind")
    sd.add_argument("--to", required=True)
    sd.add_argument("--via")
    sd.add_argument("--src", help="hdrincl: the source address to write")
    sd.add_argument("--port", type=int, default=9)
    sd.add_argument("--marker", required=True)
    sd.add_argument("--count", type=int, default=1)
    args = ap.parse_args()
    if args.cmd == "sniff":
        sniff(args)
        return
    try:
        send(args)
        print("ok")
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)) if e.errno else "ERROR:" + str(e))


if __name__ == "__main__":
    main()
