#!/usr/bin/env python3
"""Write an LDIF with N synthetic umsgate users for load tests.

usage: gen_users.py N [-o FILE] [--ou Load] [--base dc=example,dc=com] [--no-ou] [--start 0]

User i (0-based, + --start) is  uid=load<i:07d>,ou=<OU>,<BASE>  with
  mail                         load<i>@example.com
  facsimileTelephoneNumber     +49 40 <i // 10000 :04d> <i % 10000 :04d>   (unique, E.164 with blanks)
  otherFacsimileTelephoneNumber +49 41 ... same digits   (every 10th user)
  proxyAddresses               SMTP:<mail>, and IXI:+49 42 ... same digits  (every 3rd user)
  umsUserData                  every 2nd user
so a test can compute the expected hit for any number. The OU entry is written first unless --no-ou.
Load it offline (fast):   slapadd -q -f STATE/slapd.conf -l users.ldif   (slapd stopped), or
scripts/ldap/start.sh with LDAP_EXTRA_LDIF=users.ldif on a fresh state dir; online: ldapadd -x -D cn=admin,... -f users.ldif
"""
import argparse, random, sys

GIVEN = ["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannes", "Ida", "Jonas", "Klara", "Leon",
         "Marie", "Noah", "Olivia", "Paul", "Quirin", "Rosa", "Simon", "Tina", "Ulrich", "Vera", "Willi", "Zoe"]
SUR = ["Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
       "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krueger", "Hofmann"]
CITY = [("Muenchen", "80331", "Marienplatz"), ("Berlin", "10117", "Unter den Linden"),
        ("Hamburg", "20095", "Moenckebergstrasse"), ("Koeln", "50667", "Hohe Strasse")]


def num(prefix, i):
    return f"+49 {prefix} {i // 10000:04d} {i % 10000:04d}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--ou", default="Load")
    ap.add_argument("--base", default="dc=example,dc=com")
    ap.add_argument("--no-ou", action="store_true")
    ap.add_argument("--start", type=int, default=0)
    a = ap.parse_args()
    rnd = random.Random(42)
    out = sys.stdout if a.output == "-" else open(a.output, "w", buffering=1 << 20)
    w = out.write
    if not a.no_ou:
        w(f"dn: ou={a.ou},{a.base}\nobjectClass: organizationalUnit\nou: {a.ou}\n\n")
    for i in range(a.start, a.start + a.n):
        gn, sn = rnd.choice(GIVEN), rnd.choice(SUR)
        city, plz, street = CITY[i % len(CITY)]
        uid = f"load{i:07d}"
        mail = f"{uid}@example.com"
        e = [f"dn: uid={uid},ou={a.ou},{a.base}",
             "objectClass: inetOrgPerson", "objectClass: umsUser",
             f"uid: {uid}", f"cn: {gn} {sn} {i}", f"sn: {sn}", f"givenName: {gn}",
             f"displayName: {sn}, {gn} ({i})", f"mail: {mail}", "o: Example Corp",
             f"street: {street} {1 + i % 200}", f"postalCode: {plz}", f"l: {city}",
             f"departmentNumber: {1000 + i % 500}", f"physicalDeliveryOfficeName: R-{i % 40}.{i % 97:02d}",
             f"telephoneNumber: {num('89', i)}", f"mobile: +49 151 {i:08d}",
             f"facsimileTelephoneNumber: {num('40', i)}",
             f"proxyAddresses: SMTP:{mail}"]
        if i % 10 == 0:
            e.append(f"otherFacsimileTelephoneNumber: {num('41', i)}")
        if i % 3 == 0:
            e.append(f"proxyAddresses: IXI:{num('42', i)}")
        if i % 2 == 0:
            e.append(f"umsUserData: ums1;report.lang={'de' if i % 4 else 'en'};fax.headline=Example Corp {city};fax.rights=international;billing={i}")
        e.append("userPassword: user-secret")
        w("\n".join(e) + "\n\n")
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
