#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Raw, packet and ICMP ("ping") sockets for t_socket_kinds.sh: a sender and a sniffer.

    sockkind.py raw4|raw6 ADDR PORT MARKER     SOCK_RAW/IPPROTO_UDP: a UDP datagram
    sockkind.py packet IFNAME MAC SRC4 DST4 PORT MARKER
                                               AF_PACKET/SOCK_DGRAM: an IPv4/UDP frame
    sockkind.py packet-raw IFNAME MAC SRC4 DST4 PORT MARKER
                                               AF_PACKET/SOCK_RAW/ETH_P_ALL: the same frame,
                                               Ethernet header included
    sockkind.py ping4|ping6 ADDR MARKER        SOCK_DGRAM/IPPROTO_ICMP(V6): an echo request
    sockkind.py listen ADDR4 ADDR6 PORT        (in the netns) print each UDP payload and
                                               each ICMP echo request payload, one a line

A sender prints one word: "ok" when socket() and the send succeeded, else the errno
name (EPERM: what an lsnitch refusal looks like), prefixed "socket-" when socket()
itself failed. Destinations other than 127.0.0.0/8, ::1, 192.0.2.0/24 and 2001:db8::/32
are refused (exit 2).
"""
import errno
import ipaddress
import os
import select
import socket
import struct
import sys

ALLOWED_NETS = [ipaddress.ip_network(n) for n in
                ("127.0.0.0/8", "::1/128", "192.0.2.0/24", "2001:db8::/32")]
ETH_P_IP = 0x0800
ETH_P_ALL = 0x0003
IPV6_CHECKSUM = 7


def check_dest(addr):
    ip = ipaddress.ip_address(addr)
    if not any(ip in n for n in ALLOWED_NETS):
        print("sockkind.py: refusing to send to " + addr, file=sys.stderr)
        sys.exit(2)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp(port, marker):
    # checksum 0: none (IPv4); for IPv6 the kernel fills it (IPV6_CHECKSUM)
    return struct.pack("!HHHH", 40000, port, 8 + len(marker), 0) + marker


def ipv4(src, dst, payload):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, 17, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def echo_request(v6, marker):
    return struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, 0, 1) + marker


def open_socket(fam, kind, proto):
    try:
        return socket.socket(fam, kind, proto)
    except OSError as e:
        print("socket-" + errno.errorcode.get(e.errno, str(e.errno)))
        sys.exit(0)


def send(s, data, to):
    try:
        s.sendto(data, to)
        print("ok")
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)))


def listen(addr4, addr6, port):
    u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u4.bind((addr4, port))
    u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u6.bind((addr6, port))
    i4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    i6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    print("ready", flush=True)
    while True:
        for s in select.select([u4, u6, i4, i6], [], [])[0]:
            data = s.recv(65535)
            if s is i4:
                data = data[(data[0] & 0xF) * 4:]  # IPv4 raw sockets get the IP header
            if s in (u4, u6):
                print(data.decode(errors="replace"), flush=True)
            elif data[:1] in (b"\x08", b"\x80"):  # echo requests only
                print(data[8:].decode(errors="replace"), flush=True)


def main(a):
    mode = a[0]
    if mode == "listen":
        listen(a[1], a[2], int(a[3]))
    elif mode in ("raw4", "raw6"):
        check_dest(a[1])
        v6 = mode == "raw6"
        s = open_socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                        socket.IPPROTO_UDP)
        if v6:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_CHECKSUM, 6)
        send(s, udp(int(a[2]), a[3].encode()), (a[1], 0))
    elif mode == "packet":
        check_dest(a[4])
        s = open_socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
        frame = ipv4(a[3], a[4], udp(int(a[5]), a[6].encode()))
        send(s, frame, (a[1], ETH_P_IP, 0, 0, bytes.fromhex(a[2].replace(":", ""))))
    elif mode == "packet-raw":
        check_dest(a[4])
        s = open_socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((a[1], 0))
        eth = bytes.fromhex(a[2].replace(":", "")) + b"\x02\0\0\0\0\x01"
        frame = eth + struct.pack("!H", ETH_P_IP) + ipv4(a[3], a[4], udp(int(a[5]),
                                                                        a[6].encode()))
        send(s, frame, (a[1], 0))
    elif mode in ("ping4", "ping6"):
        check_dest(a[1])
        v6 = mode == "ping6"
        s = open_socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM,
                        socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
        send(s, echo_request(v6, a[2].encode()), (a[1], 0))
    else:
        print("sockkind.py: unknown mode " + mode, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
