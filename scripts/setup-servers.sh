#!/usr/bin/env bash
# Installs the real servers the driver suite (spec/drivers/) talks to: redis-server,
# memcached, PostgreSQL, mosquitto and MariaDB, from Debian's packages, when they are missing.
# Starts no system service: the suite launches its own servers on free loopback
# ports with temporary data directories, and stops them itself.
#
# Usage: scripts/setup-servers.sh        (needs root or passwordless sudo for apt-get)
# Prints the paths it found, one "name=path" line each, and exits non-zero if any is missing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -E"; fi

find_pg_bin() {
  # Debian installs each major version under /usr/lib/postgresql/<major>/bin; take the newest.
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/postgres" ] && [ -x "$d/initdb" ]; then echo "$d"; fi
}

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v memcached >/dev/null 2>&1 || missing+=(memcached)
[ -n "$(find_pg_bin)" ] || missing+=(postgresql)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-servers: installing ${missing[*]}" >&2
  # Keep package scripts from starting services: invoke-rc.d consults policy-rc.d, and exit
  # code 101 means "action forbidden". Put one in place only for the install if none exists.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    added_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$added_policy" -eq 1 ]; then $SUDO rm -f "$policy"; fi
  # Belt and braces: if a package started its service anyway, stop it through the service
  # manager (these are the services this script just installed, nothing else).
  for svc in redis-server memcached postgresql mosquitto mariadb; do
    if command -v service >/dev/null 2>&1 && service "$svc" status >/dev/null 2>&1; then
      echo "setup-servers: stopping auto-started service $svc" >&2
      $SUDO service "$svc" stop >/dev/null 2>&1 || true
    fi
  done
fi

pg_bin=$(find_pg_bin)
# Debian puts mosquitto and mariadbd in /usr/sbin, which a non-root PATH may not hold.
in_path_or_sbin() { command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || true; }
status=0
for pair in "redis-server=$(command -v redis-server || true)" \
            "memcached=$(command -v memcached || true)" \
            "postgres=${pg_bin:+$pg_bin/postgres}" \
            "initdb=${pg_bin:+$pg_bin/initdb}" \
            "mosquitto=$(in_path_or_sbin mosquitto)" \
            "mariadbd=$(in_path_or_sbin mariadbd)" \
            "mariadb-install-db=$(command -v mariadb-install-db || true)"; do
  echo "$pair"
  [ -n "${pair#*=}" ] || status=1
done
# Postgres refuses to run as root: the suite runs it as this account.
if ! id postgres >/dev/null 2>&1; then echo "setup-servers: no 'postgres' account" >&2; status=1; fi
exit $status
