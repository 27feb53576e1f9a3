#!/usr/bin/env bash
# Installs the Debian packages Cutover needs when they are missing (idempotent, quick when done).
#   libsqlite3-dev        GRDB builds against the system SQLite
#   libcurl4-openssl-dev  Foundation's networking loads libcurl at run time
#   apache2 libapache2-mod-php  the integration tests and the demo start a real Apache + PHP
#   curl                  used by the demo and benchmark scripts
#   zlib1g-dev            gzip-compressed (rotated) access logs are read through zlib
#   libxml2-dev           parity parses pages with libxml2's HTML and XML parsers
#   libgdbm-dev           the dbm export form writes its hashed map with GNU dbm
#   postgresql            the fleet tests start a PostgreSQL for the published route table
#   goaccess              the access-log import benchmark's anchor (scripts/bench-logs.sh)
#   wrk                   the API benchmark's load generator (scripts/bench-api.sh)
#   dokuwiki              a real PHP application for the live traffic test (DokuWikiTests)
#   chromium chromium-driver python3-pip python3-venv  the dashboard's browser test (selenium from PyPI)
set -euo pipefail
packages=(libsqlite3-dev libcurl4-openssl-dev zlib1g-dev libxml2-dev libgdbm-dev postgresql goaccess wrk dokuwiki apache2 libapache2-mod-php curl chromium chromium-driver python3-pip python3-venv "$@")
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
