#!/usr/bin/env bash
# Installs a umsgate .deb on this machine and takes it out again, checking each step: after
# `dpkg -i` the binary, the unit (accepted by `systemd-analyze verify`), the configuration
# (a conffile, root:umsgate 0640), the system user and its folders exist and
# `umsgate --version` runs; after `dpkg -r` the binary and the unit are gone while the
# configuration, the folders and the user stay; after `dpkg -P` those are gone too.
#
#   scripts/package/check.sh PATH/TO/umsgate_*.deb
#
# Must run as root on a machine where installing and purging umsgate harms nothing (CI);
# an umsgate package already installed is purged first. Needs systemd (systemd-analyze).
set -euo pipefail
DEB=${1:-}
die() { echo "scripts/package/check.sh: FAILED: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
[ -f "$DEB" ] || { echo "usage: $0 PATH/TO/umsgate_*.deb" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "must run as root (dpkg -i)"
command -v systemd-analyze >/dev/null || die "systemd-analyze missing: apt-get install systemd"
UNIT=/usr/lib/systemd/system/umsgate.service
installed() { dpkg-query -W -f='${Status}' umsgate 2>/dev/null | grep -q 'install ok installed'; }

if dpkg-query -W umsgate >/dev/null 2>&1; then
  echo "purging the umsgate package that is there"
  dpkg -P umsgate >/dev/null
fi

# --- install
dpkg -i "$DEB" || die "dpkg -i $DEB"
installed || die "dpkg does not list umsgate as installed"
[ -x /usr/bin/umsgate ] || die "/usr/bin/umsgate missing"
/usr/bin/umsgate --version | grep -q '^umsgate ' || die "umsgate --version"
ok "binary: $(/usr/bin/umsgate --version)"
[ -f "$UNIT" ] || die "$UNIT missing"
systemd-analyze verify "$UNIT" || die "systemd-analyze verify $UNIT"
ok "unit $UNIT passes systemd-analyze verify"
[ -f /usr/share/man/man1/umsgate.1.gz ] || die "manual page missing"
zcat /usr/share/man/man1/umsgate.1.gz | grep -q '^\.TH umsgate 1' || die "manual page is no roff page"
ok "manual page"
[ -f /etc/umsgate/umsgate.toml ] || die "/etc/umsgate/umsgate.toml missing"
grep -qx /etc/umsgate/umsgate.toml /var/lib/dpkg/info/umsgate.conffiles \
  || die "/etc/umsgate/umsgate.toml is not a conffile"
[ "$(stat -c '%U:%G %a' /etc/umsgate/umsgate.toml)" = "root:umsgate 640" ] \
  || die "/etc/umsgate/umsgate.toml is $(stat -c '%U:%G %a' /etc/umsgate/umsgate.toml), not root:umsgate 640"
ok "configuration (conffile, root:umsgate 640)"
getent passwd umsgate >/dev/null || die "user umsgate missing"
[ "$(getent passwd umsgate | cut -d: -f7)" = /usr/sbin/nologin ] || die "user umsgate can log in"
[ "$(id -u umsgate)" -lt 1000 ] || die "umsgate is not a system user"
for d in /var/lib/umsgate /var/log/umsgate; do
  [ "$(stat -c '%U:%G %a' "$d")" = "umsgate:umsgate 750" ] || die "$d is $(stat -c '%U:%G %a' "$d")"
done
ok "user umsgate and its folders"
# The package's configuration is the documented example: valid as far as it can be without
# the secrets it names (the LDAP password file).
out=$(/usr/bin/umsgate check --config-only --config /etc/umsgate/umsgate.toml 2>&1 || true)
grep -q 'bind_password_file' <<<"$out" || die "unexpected check of the example: $out"
ok "umsgate check --config-only reads the installed configuration"
# The service user reads its configuration (root:umsgate 0640) and passes the unit's start check.
cp -p /etc/umsgate/umsgate.toml /etc/umsgate/umsgate.toml.orig
cat > /etc/umsgate/umsgate.toml <<'TOML'
[[instance]]
id = "inst1"
[instance.smtp_in]
listen = ["127.0.0.1:10025"]
[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
[instance.directory]
kind = "file"
path = "users.toml"
TOML
: > /etc/umsgate/users.toml
chgrp umsgate /etc/umsgate/users.toml; chmod 0640 /etc/umsgate/users.toml
runuser -u umsgate -- /usr/bin/umsgate check --config-only --config /etc/umsgate/umsgate.toml \
  || die "the service user cannot pass the start check with a minimal configuration"
runuser -u umsgate -- /usr/bin/umsgate routes --config /etc/umsgate/umsgate.toml \
  | grep -q '^fax.example.com smtp:\[127.0.0.1\]:10025$' || die "umsgate routes"
mv /etc/umsgate/umsgate.toml.orig /etc/umsgate/umsgate.toml
rm /etc/umsgate/users.toml
ok "the service user passes the start check (umsgate check --config-only) and lists the routes"

# --- remove: program and unit go, configuration, spools, logs and user stay
echo marker > /var/lib/umsgate/kept
dpkg -r umsgate || die "dpkg -r umsgate"
installed && die "umsgate still installed after dpkg -r"
[ ! -e /usr/bin/umsgate ] || die "/usr/bin/umsgate left after dpkg -r"
[ ! -e "$UNIT" ] || die "$UNIT left after dpkg -r"
[ ! -e /usr/share/man/man1/umsgate.1.gz ] || die "manual page left after dpkg -r"
[ -f /etc/umsgate/umsgate.toml ] || die "dpkg -r removed the configuration"
[ -f /var/lib/umsgate/kept ] || die "dpkg -r removed /var/lib/umsgate"
getent passwd umsgate >/dev/null || die "dpkg -r removed the user"
ok "dpkg -r: binary, unit and manual page removed; configuration, state and user kept"

# --- purge: the rest goes
dpkg -P umsgate || die "dpkg -P umsgate"
dpkg-query -W umsgate >/dev/null 2>&1 && die "dpkg still knows umsgate after purge"
for p in /etc/umsgate /var/lib/umsgate /var/log/umsgate; do
  [ ! -e "$p" ] || die "$p left after purge"
done
getent passwd umsgate >/dev/null && die "user umsgate left after purge"
getent group umsgate >/dev/null && die "group umsgate left after purge"
ok "dpkg -P: configuration, state, logs, user and group removed"
