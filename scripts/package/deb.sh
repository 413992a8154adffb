#!/usr/bin/env bash
# Builds the Debian package of umsgate with cargo-deb: the release binary (in CARGO_TARGET_DIR,
# reused between runs), the manual page generated from the command line (`umsgate man`,
# gzipped), then `cargo deb --no-build`. Prints the path of the .deb on its last line.
#
#   scripts/package/deb.sh            (CARGO_TARGET_DIR: default ./target)
#
# Needs: cargo, cargo-deb (`cargo install cargo-deb --locked`; installed here when missing and
# UMSGATE_INSTALL_CARGO_DEB=1), dpkg-dev (dpkg-shlibdeps for the dependencies), gzip.
# What goes into the package: crates/umsgate/Cargo.toml, [package.metadata.deb].
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
die() { echo "scripts/package/deb.sh: $*" >&2; exit 1; }
cd "$REPO"
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
export CARGO_TARGET_DIR=$TARGET

if ! cargo deb --version >/dev/null 2>&1; then
  if [ "${UMSGATE_INSTALL_CARGO_DEB:-0}" = 1 ]; then
    cargo install cargo-deb --locked
  else
    die "cargo-deb missing: cargo install cargo-deb --locked"
  fi
fi
command -v dpkg-shlibdeps >/dev/null || die "dpkg-shlibdeps missing: apt-get install dpkg-dev"

cargo build --release --locked -p umsgate --bin umsgate >&2
mkdir -p "$TARGET/release/man"
"$TARGET/release/umsgate" man --out "$TARGET/release/man/umsgate.1"
gzip -9nf "$TARGET/release/man/umsgate.1"
# cargo-deb resolves `target/release/` in the asset list to $CARGO_TARGET_DIR/release/.
out=$(cargo deb -p umsgate --no-build --locked --output "$TARGET/debian/" 2>&1) \
  || { echo "$out" >&2; die "cargo deb failed"; }
echo "$out" >&2
deb=$(printf '%s\n' "$out" | grep -E '\.deb$' | tail -n 1)
[ -f "$deb" ] || die "cargo deb did not name a .deb: $out"
echo "$deb"
