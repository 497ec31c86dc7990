#!/usr/bin/env bash
# Installs what the test suite needs from Debian (as root): Dovecot, Chromium, a CJK font for
# screenshots, openssl, GNU parallel, and private unpacked copies of Cyrus and Courier. Idempotent.
# `.ci/run` calls it; `npm test` calls it too when something is missing and it runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-test-machine: run as root (sudo bash scripts/setup-test-machine.sh)" >&2
  exit 1
fi

# The tests start their own private Dovecot instances on free high ports of 127.0.0.1; the
# system Dovecot is not needed. Debian's maintainer scripts would start it on install: a
# policy-rc.d that answers 101 ("action forbidden") stops that. Removed again on exit.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$POLICY"
  chmod +x "$POLICY"
  trap 'rm -f "$POLICY"' EXIT
fi

for attempt in 1 2 3; do
  if apt-get update; then break; fi
  if [ "$attempt" = 3 ]; then echo "apt-get update failed 3 times" >&2; exit 1; fi
  sleep 10
done
# fonts-wqy-microhei: CJK glyphs, so folder names like 日本語 render in the browser tests' screenshots.
# mutt and tmux: a test opens the mbox and Maildir archives in mutt, in a real terminal.
apt-get install -y dovecot-imapd dovecot-core openssl chromium fonts-wqy-microhei mutt tmux
# parallel: GNU parallel runs `mailferry batch --shard I/N` over several processes in a test (and
# is one of the two recipes the README gives for many machines).
apt-get install -y --no-install-recommends parallel
# gnome-keyring and dbus: the CLI's --remember keeps OAuth2 sign-ins in the Secret Service; a
# test runs it on a private D-Bus session with its own keyring under a temp HOME.
apt-get install -y --no-install-recommends gnome-keyring dbus

if [ -s /run/dovecot/master.pid ] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
  echo "note: a system Dovecot is running; the tests do not use it (they start their own on other ports)"
fi

# Cyrus and Courier conflict with Dovecot as packages: unpacked into a private folder instead.
bash scripts/install-test-servers.sh
