#!/bin/sh
# Cutover's command line as installed: the database is the service's (/var/lib/cutover), and
# root's commands run as the service user so that every file there stays the service's; only
# `cutover install`, which edits Apache's configuration, runs as root.
: "${CUTOVER_DB:=/var/lib/cutover/cutover.sqlite}"
export CUTOVER_DB
if [ "$(id -u)" = "0" ] && [ "${1:-}" != "install" ]; then
    exec runuser -u cutover -- /usr/lib/cutover/cutover "$@"
fi
exec /usr/lib/cutover/cutover "$@"
