#!/usr/bin/env python3
"""Write a host or domain blocklist of N entries of one kind, for benchmarks only.

Kinds: v4 (exact 10.x.y.z), v4cidr (/28 inside 10.0.0.0/8), v6 (exact in
2001:db8::/32), v6cidr (/64 inside 2001:db8::/32). Addresses go into maps;
nothing is ever sent to them. Kind domain writes names
"b<i>.blk<i % 1000>.example" (the names bench/domain_lookup_rules.c builds),
never resolved: the DNS bench queries other names.
"""
import sys


def main():
    kind, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(path, "w") as f:
        f.write(f"# {n} {kind} entries generated for make bench\n")
        for i in range(n):
            if kind == "v4":
                f.write(f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}\n")
            elif kind == "v4cidr":
                j = i << 4
                f.write(f"10.{(j >> 16) & 255}.{(j >> 8) & 255}.{j & 255}/28\n")
            elif kind == "v6":
                f.write(f"2001:db8::{(i >> 16) & 0xffff:x}:{i & 0xffff:x}\n")
            elif kind == "v6cidr":
                f.write(f"2001:db8:{(i >> 16) & 0xffff:x}:{i & 0xffff:x}::/64\n")
            elif kind == "domain":
                f.write(f"b{i}.blk{i % 1000}.example\n")
            else:
                sys.exit(f"unknown kind {kind}")


if __name__ == "__main__":
    main()
