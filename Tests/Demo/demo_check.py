#!/usr/bin/env python3
"""End-to-end check of the no-Docker demo (scripts/demo-check.sh starts it): Apache answers the
PHP pages, the first run shows traffic from Apache's own access log, the sample Swift app
answers through the fallback, a page flipped through the API
and applied to Apache is served and observed as Swift, a retired .php file becomes a Swift page
after a crawl, and a rollback brings PHP back.

    demo_check.py CUTOVER_URL APACHE_URL TOKEN DOCROOT
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

cutover, apache, token, docroot = sys.argv[1:5]
site = "demo"


def step(text):
    print(f"demo-check: {text}", flush=True)


def api(path, method="GET", body=None):
    request = urllib.request.Request(cutover + path, method=method, headers={"Authorization": f"Bearer {token}"})
    data = json.dumps(body).encode() if body is not None else None
    if data:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, data, timeout=30) as response:
        text = response.read().decode()
        return json.loads(text) if "json" in response.headers.get("Content-Type", "") else text


def fetch(path):
    """Status and headers of a GET through Apache."""
    try:
        with urllib.request.urlopen(apache + path, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def run_job(kind):
    job = api(f"/api/sites/{site}/jobs", "POST", {"kind": kind})
    for _ in range(300):
        job = api(f"/api/jobs/{job['id']}")
        if job["state"] != "running":
            assert job["state"] == "succeeded", f"{kind} job {job}"
            return job
        time.sleep(0.1)
    raise AssertionError(f"{kind} job did not finish: {job}")


def run_parity(paths):
    job = api(f"/api/sites/{site}/jobs", "POST", {"kind": "parity", "paths": paths})
    for _ in range(300):
        job = api(f"/api/jobs/{job['id']}")
        if job["state"] != "running":
            assert job["state"] == "succeeded", f"parity job {job}"
            return api(f"/api/sites/{site}/parity/runs/{job['runID']}")
        time.sleep(0.1)
    raise AssertionError(f"parity job did not finish: {job}")


def url(path):
    items = [item for item in api(f"/api/sites/{site}/urls?prefix={path}")["items"] if item["path"] == path]
    assert items, f"{path} is not in the inventory"
    return items[0]


def apply():
    subprocess.run(["scripts/demo.sh", "apply"], check=True)


step("the first run shows traffic: Apache's access log (with %R) is the site's, imported at start")
info = api(f"/api/sites/{site}")
assert info["accessLogs"] and info["accessLogs"][0].endswith("/logs/access.log"), info["accessLogs"]
assert info["crawlEvery"], info
summary = api(f"/api/sites/{site}/traffic/summary")
assert summary["logsFrom"] and summary["last7"]["pageHits"] > 0, summary
assert summary["last7"]["swiftHits"] > 0 and summary["last7"]["byLog"] > 0, summary["last7"]  # /news, served by Swift, says so itself
assert "/contact.php" in [page["path"] for page in summary["portNext"]], summary["portNext"]
assert "/.env" not in [page["path"] for page in summary["portNext"]], summary["portNext"]
files = api(f"/api/sites/{site}/log-files")
assert files and files[0]["badLines"] == 0, files

step("Apache serves the PHP site and the marker says so")
status, headers = fetch("/")
assert status == 200 and headers.get("X-Cutover-Handler") == "application/x-httpd-php", (status, dict(headers))
status, headers = fetch("/css/site.css")
assert status == 200 and headers.get("X-Cutover-Owner") is None, (status, dict(headers))

step("a URL without a file reaches the sample Swift app through the fallback")
status, headers = fetch("/news")
assert status == 200 and headers.get("X-Cutover-Owner") == "swift", (status, dict(headers))
stats = api(f"/api/sites/{site}/stats")
assert stats["fallback"]["healthy"] is True, stats["fallback"]
# The Swift app answers it; ready to flip needs parity too (answers, not compared).
contact = url("/contact.php")
assert contact["swiftAnswers"] is True and contact["readyToFlip"] is False and "parity" not in contact, contact

step("flip /contact.php in the API, apply the export to Apache, probe: Swift answers, no drift")
api(f"/api/sites/{site}/flips", "POST", {"paths": ["/contact.php"], "to": "swift", "reason": "demo check"})
counts = api(f"/api/sites/{site}/stats")["counts"]
# Planned, not on Swift yet; /news (requested by the demo visitors, no file: the Swift app's
# through the fallback, and the log says Swift served it) is on Swift already.
assert counts["planned"] == 1 and counts["swift"] == 1 and counts["php"] == 8, counts
apply()
status, headers = fetch("/contact.php")
assert status == 200 and headers.get("X-Cutover-Owner") == "swift", (status, dict(headers))
run_job("probe")
contact = url("/contact.php")
assert contact["observedOwner"] == "swift" and contact["drift"] is False, contact

step("parity through Apache: the Swift contact page has another layout, so it is different, field by field")
run = run_parity(["/contact.php"])
result = run["results"][0]
assert result["verdict"] == "different", result
fields = {d["field"]: d for d in result["differences"]}
# PHP's page has the site's header, main (with the form) and footer; the Swift one a heading and text.
assert fields["html/body/main"].get("php", "").startswith("<main>Email") and "swift" not in fields["html/body/main"], fields
assert fields["html/body/h1"] == {"field": "html/body/h1", "swift": "<h1>Contact"}, fields
assert url("/contact.php")["parity"] == "different" and url("/contact.php")["readyToFlip"] is False
# A flip that requires parity refuses a page nobody compared, naming it.
try:
    api(f"/api/sites/{site}/flips", "POST", {"paths": ["/about/team.php"], "to": "swift", "requireParity": True})
    raise AssertionError("flipped without parity")
except urllib.error.HTTPError as error:
    message = json.loads(error.read())["error"]["message"]
    assert error.code == 409 and "/about/team.php (not compared)" in message, (error, message)

step("retire /about/team.php: after a crawl and a probe it is a Swift page")
os.remove(os.path.join(docroot, "about", "team.php"))
run_job("crawl")
run_job("probe")
team = url("/about/team.php")
assert team["owner"] == "swift" and team["observedOwner"] == "swift" and team["drift"] is False, team
stats = api(f"/api/sites/{site}/stats")
# On Swift: Swift's by the plan and seen there by the probe; 3 of the demo's 10 pages (/news too).
assert stats["counts"]["swift"] == 3 and stats["counts"]["planned"] == 0 and stats["counts"]["php"] == 7, stats
assert stats["percentOnSwift"] == 30.0 and stats["driftCount"] == 0, stats

step("roll back /contact.php: PHP answers again")
api(f"/api/sites/{site}/flips", "POST", {"paths": ["/contact.php"], "to": "php", "reason": "roll back"})
apply()
status, headers = fetch("/contact.php")
assert headers.get("X-Cutover-Handler") == "application/x-httpd-php", (status, dict(headers))
run_job("probe")
contact = url("/contact.php")
assert contact["observedOwner"] == "php" and contact["drift"] is False, contact
step("the demo works end to end")
