#!/usr/bin/env python3
"""The same number searches as umsgate's ldap_bench, with Python's ldap3 on one persistent,
synchronous connection (pip install ldap3).

usage: bench_ldap3.py URL BIND_DN BIND_PW BASE_DN USERS LOOKUPS
"""
import sys
import time

import ldap3

FILTER = ("(|(facsimileTelephoneNumber={s})(facsimileTelephoneNumber={c})"
          "(otherFacsimileTelephoneNumber={s})(otherFacsimileTelephoneNumber={c})"
          "(proxyAddresses=IXI:{s})(proxyAddresses=IXI:{c}))")
ATTRS = ["mail", "cn", "umsUserData", "o", "street", "postalCode", "l", "departmentNumber",
         "physicalDeliveryOfficeName", "telephoneNumber", "facsimileTelephoneNumber"]


def main():
    url, dn, pw, base, users, lookups = sys.argv[1:7]
    users, lookups = int(users), int(lookups)
    server = ldap3.Server(url, get_info=ldap3.NONE)
    conn = ldap3.Connection(server, dn, pw, auto_bind=True, client_strategy=ldap3.SYNC)
    step = 7919
    numbers = []
    for k in range(lookups):
        i = (k * step + 13) % users
        numbers.append((f"+49 40 {i // 10000:04d} {i % 10000:04d}", f"+4940{i // 10000:04d}{i % 10000:04d}"))
    conn.search(base, "(mail=warmup@example.com)", attributes=ATTRS)
    lat = []
    found = 0
    started = time.perf_counter()
    for s, c in numbers:
        t = time.perf_counter()
        conn.search(base, FILTER.format(s=ldap3.utils.conv.escape_filter_chars(s),
                                        c=ldap3.utils.conv.escape_filter_chars(c)),
                    search_scope=ldap3.SUBTREE, attributes=ATTRS, paged_size=500)
        found += len(conn.entries)
        lat.append(time.perf_counter() - t)
    total = time.perf_counter() - started
    lat.sort()
    q = lambda p: lat[min(int(len(lat) * p), len(lat) - 1)] * 1e6
    print(f"python-ldap3 {ldap3.__version__} lookups={len(lat)} found={found} "
          f"lookups_per_s={len(lat) / total:.0f} p50_us={q(0.5):.0f} p99_us={q(0.99):.0f} max_us={lat[-1] * 1e6:.0f}")


if __name__ == "__main__":
    main()
