#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers for `npm run test:postgres`: the one
# named by FEDALIGN_TEST_POSTGRES, or else the local one on 127.0.0.1:5432.
# When nothing answers locally, installs Debian's `postgresql` package, starts
# its cluster and lets local TCP connections in without a password (trust), as
# on the development machines. Used by .ci/run; needs root (or sudo) only when
# it has to install.
set -euo pipefail
if [[ -n "${FEDALIGN_TEST_POSTGRES:-}" ]]; then
  exit 0
fi
answers() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
if answers; then
  echo "== PostgreSQL answers on 127.0.0.1:5432"
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
if ! command -v pg_ctlcluster >/dev/null; then
  echo "== installing Debian's postgresql package"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -n | tail -1)
hba="/etc/postgresql/$version/main/pg_hba.conf"
if ! $SUDO grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
  # First matching line wins, so trust for loopback goes on top.
  $SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
fi
$SUDO pg_ctlcluster "$version" main start 2>/dev/null || $SUDO pg_ctlcluster "$version" main reload
for _ in $(seq 1 30); do
  if answers; then
    echo "== PostgreSQL $version started on 127.0.0.1:5432"
    exit 0
  fi
  sleep 1
done
echo "PostgreSQL did not start on 127.0.0.1:5432; see /var/log/postgresql/." >&2
exit 1
