#!/usr/bin/env bash
# Private copies of Cyrus IMAP 3.6 and Courier IMAP 5.0 for the integration tests
# (test/support/cyrus.ts, test/support/courier.ts).
#
# Both packages declare `Conflicts: imap-server`, which dovecot-imapd provides, so installing
# them would remove Dovecot. Instead their .debs are downloaded and unpacked with `dpkg-deb -x`
# (no maintainer scripts run, nothing starts, nothing lands in /usr or /etc):
#   $ROOT/cyrus    cyrus-common + cyrus-imapd
#   $ROOT/courier  courier-imap, courier-base, courier-authlib(+daemon, userdb), its unicode
#                  library and gamin (without gam_server every Courier command costs ~1 s)
# The tests serve these trees at their compiled-in paths from inside a private mount namespace.
# Their shared libraries that do not conflict with anything are installed normally with apt-get,
# as is sasl2-bin (saslpasswd2 writes Cyrus' sasldb).
#
# Idempotent: a second run with everything in place only checks and exits.
# Usage: bash scripts/install-test-servers.sh        (as root; MAILFERRY_TEST_SERVERS overrides $ROOT)
set -euo pipefail

ROOT="${MAILFERRY_TEST_SERVERS:-/opt/mailferry-test-servers}"
CYRUS_DEBS=(cyrus-common cyrus-imapd)
COURIER_DEBS=(courier-imap courier-base courier-authdaemon courier-authlib courier-authlib-userdb libcourier-unicode4 gamin libgamin0)
# Libraries the unpacked binaries link against (checked with ldd), plus the tools the helpers run.
# libclamav12 and libzephyr4 are left out: only cyr_virusscan and notifyd need them.
APT_DEPS=(libpcre3 libxapian30 libical3 libicu72 libjansson4 libpq5 libwrap0 libsasl2-2 libsasl2-modules libsasl2-modules-db
  sasl2-bin libidn12 libltdl7 libgdbm6 libglib2.0-0 perl util-linux)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-servers: run as root (apt-get, and the trees go to $ROOT)" >&2
  exit 1
fi

missing_apt=()
for pkg in "${APT_DEPS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing_apt+=("$pkg")
  fi
done
if [ "${#missing_apt[@]}" -gt 0 ]; then
  echo "install-test-servers: apt-get install ${missing_apt[*]}"
  # --no-remove: abort rather than let apt take Dovecot (or anything else) away.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends --no-remove "${missing_apt[@]}"; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends --no-remove "${missing_apt[@]}"
  fi
fi

# The version set a tree was built from, so a security update of a package rebuilds it.
# (One apt-cache call for all: each call costs a second or more.)
wanted_versions() {
  apt-cache policy "$@" | awk '/^[^ ]/ { sub(/:$/, ""); pkg = $0 } /^ *Candidate:/ { print pkg "=" $2 }'
}

unpack_tree() {
  local name="$1"
  shift
  local dest="$ROOT/$name"
  local stamp="$dest/.mailferry-installed"
  local want="" pkg
  for pkg in "$@"; do
    want+="$(grep "^$pkg=" <<<"$ALL_VERSIONS")"$'\n'
  done
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${want%$'\n'}" ]; then
    echo "install-test-servers: $name already in $dest"
    return
  fi
  local work
  work="$(mktemp -d "$ROOT/.$name.XXXXXX")"
  chmod 0755 "$work"
  # apt downloads as the _apt user where it can; a world-writable download folder avoids the warning.
  mkdir -m 0777 "$work/debs"
  (cd "$work/debs" && apt-get download "$@")
  mkdir "$work/tree"
  local deb
  for deb in "$work"/debs/*.deb; do
    dpkg-deb -x "$deb" "$work/tree"
  done
  printf '%s' "$want" >"$work/tree/.mailferry-installed"
  rm -rf "$dest.old"
  if [ -e "$dest" ]; then mv "$dest" "$dest.old"; fi
  mv "$work/tree" "$dest"
  rm -rf "$dest.old" "$work"
  echo "install-test-servers: $name unpacked into $dest"
}

ALL_VERSIONS="$(wanted_versions "${CYRUS_DEBS[@]}" "${COURIER_DEBS[@]}")"
if [ "$(grep -c '=[^(]' <<<"$ALL_VERSIONS")" -ne $((${#CYRUS_DEBS[@]} + ${#COURIER_DEBS[@]})) ]; then
  apt-get update
  ALL_VERSIONS="$(wanted_versions "${CYRUS_DEBS[@]}" "${COURIER_DEBS[@]}")"
fi
mkdir -p "$ROOT"
unpack_tree cyrus "${CYRUS_DEBS[@]}"
unpack_tree courier "${COURIER_DEBS[@]}"

# A quick sanity check that the loader finds everything the servers need.
check_libs() {
  local tree="$1"
  shift
  local libpath="$tree/usr/lib/x86_64-linux-gnu:$tree/usr/lib:$tree/usr/lib/courier-authlib"
  local bin out
  for bin in "$@"; do
    out="$(LD_LIBRARY_PATH="$libpath" ldd "$tree/$bin" 2>&1 | grep 'not found' || true)"
    if [ -n "$out" ]; then
      echo "install-test-servers: $bin lacks libraries:" >&2
      echo "$out" >&2
      exit 1
    fi
  done
}
check_libs "$ROOT/cyrus" usr/lib/cyrus/bin/master usr/lib/cyrus/bin/imapd usr/lib/cyrus/bin/ctl_cyrusdb
check_libs "$ROOT/courier" usr/sbin/couriertcpd usr/bin/imapd usr/lib/courier/courier/imaplogin \
  usr/lib/courier/courier-authlib/authdaemond usr/lib/courier-authlib/libauthuserdb.so.0 usr/libexec/gam_server
echo "install-test-servers: ready ($ROOT)"
