#!/usr/bin/env python3
"""Records what the API and the CLI's --json answer on a fixture, to show that a refactor changes
nothing (issue 25: record before, compare after).

    scripts/api-record.py record DIR    build the fixture, record every answer into DIR
    scripts/api-record.py compare DIR   build it again, answer the same requests, diff with DIR

The fixture is built the same way each time, by the CLI: the demo docroot plus 400 synthetic
files, an access log with pages, query pages, redirects and scanners (fixed dates), page keys,
flips (one by prefix) and two stored exports; a probe against a closed port. Every GET route of
the OpenAPI document is asked with its filters, sorts and pages (a few hundred requests), plus
unknown ids and bad values, then `status`, `urls`, `logs show` and `export` with --json.

What differs between two builds of the same fixture by nature is replaced before comparing:
times of the run itself (ISO times and epoch seconds from today), durations, the server's port and
the temporary folder. Everything else must be equal byte for byte (bodies are compared as
text, not re-serialized). Uses CUTOVER_BIN (default .build/debug/cutover).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("CUTOVER_BIN", os.path.join(ROOT, ".build/debug/cutover"))
TOKEN = "api-record-token-0123456789abcdef"


def run(*args, check=True):
    result = subprocess.run([BIN, *args], capture_output=True, text=True, check=False)
    if check and result.returncode not in (0, 3):
        sys.exit(f"cutover {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def access_log(path):
    """A deterministic combined log: pages, query pages, a redirect, scanners, bots, 3 days."""
    lines = []
    days = ["01/Mar/2026", "02/Mar/2026", "03/Mar/2026"]
    pages = ["/", "/index.php", "/about/", "/products/", "/contact.php", "/s1/d0/f1.php", "/s2/d0/f2.html"]
    for d, day in enumerate(days):
        for i in range(40):
            page = pages[(i + d) % len(pages)]
            agent = "Mozilla/5.0 (X11; Linux x86_64)" if i % 4 else "Googlebot/2.1 (+http://www.google.com/bot.html)"
            lines.append(f'203.0.113.{i % 9 + 1} - - [{day}:10:{i % 60:02d}:00 +0000] "GET {page} HTTP/1.1" 200 512 "-" "{agent}"')
        for i in range(12):
            lines.append(f'203.0.113.7 - - [{day}:11:{i:02d}:00 +0000] "GET /index.php?route=/shop/item{i % 3} HTTP/1.1" 200 900 "-" "Mozilla/5.0"')
        lines.append(f'203.0.113.8 - - [{day}:12:00:00 +0000] "GET /old-page HTTP/1.1" 301 0 "-" "Mozilla/5.0"')
        lines.append(f'198.51.100.9 - - [{day}:13:00:00 +0000] "GET /.env HTTP/1.1" 404 0 "-" "curl/8.0"')
        lines.append(f'198.51.100.9 - - [{day}:13:00:01 +0000] "GET /wp-login.php HTTP/1.1" 404 0 "-" "curl/8.0"')
        lines.append(f'203.0.113.4 - - [{day}:14:00:00 +0000] "GET /blog/post-{d} HTTP/1.1" 200 700 "-" "Mozilla/5.0"')
    lines.append('this line is not a log line')
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def build_fixture(work):
    docroot = f"{work}/htdocs"
    shutil.copytree(f"{ROOT}/docker/demo/htdocs", docroot)
    subprocess.run([sys.executable, f"{ROOT}/scripts/synthetic-docroot.py", docroot, "400"], check=True)
    # An exposure: a symbolic link to /etc, never followed, reported at the link.
    os.symlink("/etc", f"{docroot}/etc-link")
    db = f"{work}/fixture.sqlite"
    dead = 9  # discard: nothing listens there, and the URLs stay the same from build to build
    site = ["--db", db, "--site", "fixture"]
    run("crawl", "--db", db, "--site", "fixture", "--docroot", docroot, "--site-url", f"http://127.0.0.1:{dead}",
        "--backend-url", f"http://127.0.0.1:{dead}")
    run("site", "set", "fixture", "--db", db, "--page-key", "/index.php=route")
    # The side-header secret is random per site: a fixed one keeps the exports' digests, and so
    # their text and hashes, the same from build to build.
    import sqlite3
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE site_secrets SET side_secret = '0123456789abcdef0123456789abcdef'")
    access_log(f"{work}/access.log")
    run("logs", "import", *site, f"{work}/access.log")
    run("flip", *site, "/about/", "--to", "swift")
    run("flip", *site, "/s1/d0/f1.php", "/s5/d1/f55.php", "--to", "swift")
    run("flip", *site, "--prefix", "/blog/", "--to", "swift")
    run("export", *site, "-o", f"{work}/export1.conf")
    run("flip", *site, "/contact.php", "--to", "swift")
    run("export", *site, "-o", f"{work}/export2.conf")
    run("probe", *site, "--timeout", "1", "--concurrency", "4")
    # A parity run against the closed port: every compared page an error that says which side.
    run("parity", *site, "--timeout", "1", "--concurrency", "2", "/contact.php", "/s1/d0/f1.php", "/index.php?route=/shop/item1")
    run("crawl", *site)
    return db, docroot


def requests_for(site, ids):
    """Every GET route of the OpenAPI document with its variations."""
    paths = ["/api/health", "/api/jobs", "/api/jobs/999999", "/api/jobs/abc", "/api/sites", "/api/site-defaults", f"/api/sites/{site}",
             "/api/sites/nope", "/api/sites/nope/urls", "/openapi.json"]
    base = f"/api/sites/{site}"
    for form in ["", "?form=vhost", "?form=htaccess", "?form=rewritemap", "?form=rewritemap&map=/etc/apache2/cutover.map",
                 "?form=bogus"]:
        paths += [f"{base}/export{form}", f"{base}/export/diff{form}"]
    paths += [f"{base}/export/preview", f"{base}/exports", f"{base}/htaccess", f"{base}/exposures", f"{base}/log-files", f"{base}/stats",
              f"{base}/exports/999999", f"{base}/exports/x"]
    paths += [f"{base}/exports/{i}" for i in ids["exports"]]
    paths += [f"{base}/parity/runs", f"{base}/parity/runs/999999", f"{base}/parity/runs/x"]
    paths += [f"{base}/parity/runs/{i}" for i in ids["parity"]]
    for sort in ["", "hits", "humanHits", "lastSeen", "path", "bogus"]:
        for extra in ["", "&limit=3", "&limit=3&offset=3", "&prefix=/s1/", "&limit=0", "&limit=-1", "&offset=x"]:
            paths.append(f"{base}/traffic?sort={sort}{extra}" if sort else f"{base}/traffic?{extra.lstrip('&')}")
    paths += [f"{base}/traffic/daily", f"{base}/traffic/daily?days=2", f"{base}/traffic/daily?days=0",
              f"{base}/traffic/daily?days=x", f"{base}/traffic/summary", f"{base}/traffic/summary?orphanDays=1",
              f"{base}/traffic/summary?orphanDays=-5"]
    filters = ["", "owner=php", "owner=swift", "owner=static", "owner=bogus", "planned=swift", "observed=php",
               "drift=true", "ready=true", "parity=error", "parity=not-compared", "parity=bogus",
               "include=true", "include=false", "minHits=1", "minHits=x", "prefix=/s1/",
               "prefix=/about", "q=f1", "q=%25", "q=contact"]
    # Not sort=latency: the probe's latencies (replaced in bodies) differ from build to build.
    sorts = ["", "sort=path", "sort=owner", "sort=status", "sort=hits", "sort=lastSeen", "sort=bogus"]
    for f in filters:
        for s in sorts:
            for o in ["", "order=desc"]:
                # The first 8 of each: enough to show the filter and the order, and a baseline a
                # reviewer can read (the full pages are asked below).
                paths.append(f"{base}/urls?" + "&".join(x for x in [f, s, o, "limit=8"] if x))
    paths += [f"{base}/urls", f"{base}/urls?owner=php", f"{base}/urls?sort=hits&order=desc"]
    for page in ["limit=5", "limit=5&offset=5", "limit=5&offset=100000", "limit=100000", "limit=x", "after=5",
                 "after=x", "limit=5&sort=hits&order=desc&offset=2"]:
        paths.append(f"{base}/urls?{page}")
    paths += [f"{base}/urls/{i}" for i in ids["urls"]] + [f"{base}/urls/999999999", f"{base}/urls/x"]
    return paths


def normalizer(work, port, started):
    today = time.strftime("%Y-%m-%d", time.gmtime(started))
    iso = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
    epoch = re.compile(r"\b1[7-9]\d{8}(?:\.\d+)?\b")
    duration = re.compile(r'("(?:[a-zA-Z]*(?:[Dd]uration|[Ee]lapsed|[Ll]atency)[a-zA-Z]*)"\s*:\s*)-?[\d.]+(?:e-?\d+)?')

    def clean(text):
        text = text.replace(work, "<work>").replace(f"127.0.0.1:{port}", "127.0.0.1:<port>")
        text = iso.sub(lambda m: "<now>" if m.group(0).startswith(today) or abs(parse_iso(m.group(0)) - started) < 86400 * 2
                       else m.group(0), text)
        text = epoch.sub(lambda m: "<now>" if abs(float(m.group(0)) - started) < 86400 * 2 else m.group(0), text)
        return duration.sub(lambda m: m.group(1) + "<ms>", text)
    return clean


def parse_iso(text):
    import datetime
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T")).timestamp()
    except ValueError:
        return 0


def serve(db, port):
    token = f"{os.path.dirname(db)}/token"
    with open(token, "w") as f:
        f.write(TOKEN)
    os.chmod(token, 0o600)
    process = subprocess.Popen([BIN, "serve", "--db", db, "--port", str(port), "--token-file", token, "--log-level", "error"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1).read()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    sys.exit(f"cutover serve did not start: {process.stderr.read().decode()}")


def get(port, path):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


def record(started):
    # Always the same folder: exports name the docroot, and their hashes must not change.
    work = os.path.join(tempfile.gettempdir(), "cutover-api-record")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    try:
        db, _ = build_fixture(work)
        answers = {}
        site = ["--db", db, "--site", "fixture", "--json"]
        for name, args in [("status", ["status"]), ("urls", ["urls"]), ("urls-swift", ["urls", "--owner", "swift"]),
                           ("logs-show", ["logs", "show"]), ("export-preview", ["export", "--preview"]),
                           ("export-history", ["export", "--history"]), ("site-list", ["site", "list"]),
                           ("urls-parity", ["urls", "--parity", "error"])]:
            result = run(*args, *site, check=False)
            answers[f"cli {name}"] = (result.returncode, "", result.stdout + result.stderr)
        port = closed_port()
        process = serve(db, port)
        try:
            urls = json.loads(get(port, "/api/sites/fixture/urls?limit=20")[2])["items"]
            exports = json.loads(get(port, "/api/sites/fixture/exports")[2])
            exports = exports.get("items", exports) if isinstance(exports, dict) else exports
            parity = json.loads(get(port, "/api/sites/fixture/parity/runs")[2])
            ids = {"urls": [u["id"] for u in urls], "exports": [e["id"] for e in exports], "parity": [r["id"] for r in parity]}
            for path in requests_for("fixture", ids):
                answers[f"GET {path}"] = get(port, path)
        finally:
            process.terminate()
            process.wait(timeout=10)
        clean = normalizer(work, port, started)
        return {key: [status, kind, clean(body)] for key, (status, kind, body) in answers.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("record", "compare"):
        sys.exit(__doc__)
    mode, folder = sys.argv[1:]
    started = time.time()
    answers = record(started)
    file = os.path.join(folder, "answers.json")
    if mode == "record":
        os.makedirs(folder, exist_ok=True)
        with open(file, "w") as f:
            json.dump(answers, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"api-record: {len(answers)} answers recorded in {file}")
        return
    with open(file) as f:
        before = json.load(f)
    changed = [key for key in sorted(set(before) | set(answers)) if before.get(key) != answers.get(key)]
    for key in changed[:40]:
        print(f"changed: {key}\n  before: {str(before.get(key))[:300]}\n  after:  {str(answers.get(key))[:300]}")
    print(f"api-record: {len(answers)} answers, {len(changed)} changed")
    sys.exit(1 if changed else 0)


if __name__ == "__main__":
    main()
