#!/usr/bin/env bash
# `make deb`: a Debian package of Cutover as an Apache admin expects it.
#   /usr/lib/cutover/cutover   the binary, Swift's runtime linked in (--static-swift-stdlib: no
#                              Debian package provides it), with its resource bundles beside it
#   /usr/bin/cutover           the command line: the service's database, root's commands run as
#                              the service user (only `cutover install` stays root)
#   /usr/share/cutover/Public  the dashboard
#   /lib/systemd/system/cutover.service  hardened; checked below
#   postinst: user `cutover`, /var/lib/cutover (0700), /etc/cutover/token (0640 root:cutover)
# Depends come from dpkg-shlibdeps. Fails on any lintian error, a unit systemd-analyze rejects,
# or an exposure score above SECURITY_THRESHOLD. Prints the package path last.
set -euo pipefail
cd "$(dirname "$0")/.."
SECURITY_THRESHOLD=${SECURITY_THRESHOLD:-2.0}
out=.build/deb
root=$out/root
version="0.24.0+git$(git log -1 --format=%cd --date=format:%Y%m%d 2>/dev/null || date -u +%Y%m%d).$(git rev-parse --short HEAD 2>/dev/null || echo local)"
arch=$(dpkg --print-architecture)

swift build -c release --product cutover --static-swift-stdlib
bin=$(swift build -c release --show-bin-path)

rm -rf "$out"
install -d "$root/DEBIAN" "$root/usr/lib/cutover" "$root/usr/bin" "$root/usr/share/cutover" "$root/usr/share/doc/cutover" \
  "$root/lib/systemd/system"
install -m 0755 "$bin/cutover" "$root/usr/lib/cutover/cutover"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/lib/cutover/cutover"
for bundle in "$bin"/*.resources; do
  cp -R "$bundle" "$root/usr/lib/cutover/"
done
install -m 0755 scripts/debian/cutover.sh "$root/usr/bin/cutover"
cp -R Public "$root/usr/share/cutover/Public"
install -m 0644 scripts/debian/cutover.service "$root/lib/systemd/system/cutover.service"
install -m 0644 scripts/debian/copyright "$root/usr/share/doc/cutover/copyright"
install -d "$root/usr/share/lintian/overrides"
install -m 0644 scripts/debian/lintian-overrides "$root/usr/share/lintian/overrides/cutover"
install -m 0644 README.md "$root/usr/share/doc/cutover/README.md"
printf 'cutover (%s) unstable; urgency=medium\n\n  * Built from %s.\n\n -- Cutover maintainers <maintainers@cutover.example.com>  %s\n' \
  "$version" "$(git rev-parse HEAD 2>/dev/null || echo 'a source tree')" "$(date -uR)" | gzip -9n > "$root/usr/share/doc/cutover/changelog.gz"
install -m 0755 scripts/debian/postinst scripts/debian/postrm "$root/DEBIAN/"
find "$root" -type d -exec chmod 0755 {} +
find "$root/usr/share" "$root/usr/lib/cutover" -type f ! -name cutover -exec chmod 0644 {} +

# Depends: what the binary links (glibc, libstdc++, libsqlite3, zlib, ...), by dpkg-shlibdeps.
mkdir -p "$out/src/debian"
printf 'Source: cutover\n\nPackage: cutover\nArchitecture: any\n' > "$out/src/debian/control"
shlibs=$(cd "$out/src" && dpkg-shlibdeps -O "$(realpath "../root/usr/lib/cutover/cutover")" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
installed=$(du -k -s --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: cutover
Version: $version
Architecture: $arch
Maintainer: Cutover maintainers <maintainers@cutover.example.com>
Installed-Size: $installed
Depends: $shlibs, adduser
Recommends: apache2, libapache2-mod-php
Section: web
Priority: optional
Description: move a PHP site to Swift page by page on one Apache httpd
 Cutover crawls a PHP docroot and records every URL as PHP-owned, Swift-owned or
 static, probes the live site to see who answers each URL, reads Apache's access
 logs, and exports the Apache directives that flip pages to a Swift application
 one at a time (cutover install puts them inside the site's VirtualHost, checks
 them live and rolls back by itself). A dashboard, a REST API and scheduled jobs
 run as the cutover service.
CONTROL

deb="$out/cutover_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null

# The binary is not installed here: that one complaint is expected (deb-check verifies the
# installed unit strictly); anything else fails.
echo "deb: systemd-analyze verify"
verify=$(systemd-analyze verify "$root/lib/systemd/system/cutover.service" 2>&1 || true)
problems=$(printf '%s\n' "$verify" | grep -v "Command /usr/lib/cutover/cutover is not executable" | grep . || true)
[ -z "$problems" ] || { echo "$problems" >&2; exit 1; }
score=$(systemd-analyze security --offline=true --root="$root" cutover.service 2>/dev/null | sed -n 's/.*Overall exposure level for cutover.service: \([0-9.]*\).*/\1/p')
echo "deb: systemd-analyze security: exposure $score (threshold $SECURITY_THRESHOLD)"
awk -v s="$score" -v t="$SECURITY_THRESHOLD" 'BEGIN { exit !(s != "" && s + 0 <= t + 0) }'

echo "deb: lintian"
lintian --fail-on error --suppress-tags dir-or-file-in-opt "$deb" || { echo "lintian reports errors" >&2; exit 1; }
ls -l "$deb"
echo "$deb"
