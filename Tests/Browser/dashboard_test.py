#!/usr/bin/env python3
"""The dashboard in a real browser (Debian's chromium + chromedriver through selenium).

Run by scripts/browser-test.sh, which starts the demo (Apache + mod_php with the fallback, the
sample Swift app, `cutover serve`) on a crawled and probed docroot holding a file named like an
XSS payload. Checks what a user sees against what the API says, drives a flip through the UI,
and saves screenshots to ARTIFACTS.

    dashboard_test.py BASE_URL TOKEN ARTIFACTS [--first-paint-only]
"""

import datetime
import json
import os
import sqlite3
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

XSS_NAME = "<img src=x onerror=alert(1)>.php"
# A parity value as a hostile page could send it (the test stores it as a run would).
PARITY_XSS = "</td><img src=x onerror=alert(3)><script>alert(4)</script>"


class Dashboard:
    def __init__(self, base, token, artifacts):
        self.base = base.rstrip("/")
        self.token = token
        self.artifacts = artifacts
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-US"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
        # Any alert() (from an injected onerror handler, say) is recorded instead of shown.
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {
            "source": "window.__alerts = []; window.alert = (m) => window.__alerts.push(String(m));"
        })
        self.wait = WebDriverWait(self.driver, 10)

    # --- helpers -------------------------------------------------------------------------

    def api(self, path, method="GET", body=None, token=True):
        request = urllib.request.Request(self.base + path, method=method)
        if token:
            request.add_header("Authorization", f"Bearer {self.token}")
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, data, timeout=10) as response:
            text = response.read().decode()
            return json.loads(text) if "json" in response.headers.get("Content-Type", "") else text

    def open(self, hash_path):
        self.driver.get(f"{self.base}/#/{hash_path}")

    def css(self, selector):
        return self.wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))

    def all(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def text_appears(self, selector, text):
        try:
            self.wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text))
        except TimeoutException as error:
            found = [element.text for element in self.all(selector)]
            raise AssertionError(f"{selector!r} never showed {text!r}; it shows {found!r}") from error

    def shot(self, name):
        path = os.path.join(self.artifacts, f"{name}.png")
        self.driver.save_screenshot(path)
        return path

    def no_script_ran(self):
        alerts = self.driver.execute_script("return window.__alerts")
        assert alerts == [], f"a script from data ran: alert() calls {alerts}"
        images = self.driver.execute_script("return document.querySelectorAll('img').length")
        assert images == 0, f"{images} <img> element(s) were created from data"

    def wait_for_rows(self):
        self.wait.until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "table.urls tbody tr") or
                        driver.find_elements(By.CSS_SELECTOR, "main .empty"))

    def open_urls(self, query=""):
        # A hash change re-renders asynchronously: wait for the old view to go, so nothing found
        # next belongs to it (a unique hash makes sure there is a change to wait for).
        previous = self.all("main h1")
        self.open(f"urls?{query}{'&' if query else ''}view={time.time_ns()}")
        if previous:
            self.wait.until(ec.staleness_of(previous[0]))
        self.css("form.filters")

    def filter_urls(self, **fields):
        # One field at a time: a select submits the form when it changes.
        self.open_urls()
        for name, value in fields.items():
            element = self.css(f"form.filters [name={name}]")
            if element.tag_name == "select":
                Select(element).select_by_value(value)
            else:
                element.clear()
                element.send_keys(value)
        old = self.css("main h1")
        self.css("form.filters button[type=submit]").click()
        self.wait.until(ec.staleness_of(old))
        self.wait_for_rows()

    def row_paths(self):
        return [cell.text for cell in self.all("table.urls tbody th.path")]

    def set_token(self, token):
        field = self.css("#token")
        field.clear()
        field.send_keys(token)
        self.css("#token-form button[type=submit]").click()
        self.text_appears("#notice", "Token")

    def first_paint(self):
        """Loads the overview in a fresh page; returns (first contentful paint, overview painted) in ms."""
        self.driver.get("about:blank")
        self.open("overview")
        self.css("[data-name=php] .figure")
        return self.driver.execute_script("""
            const paint = performance.getEntriesByName('first-contentful-paint')[0];
            const mark = performance.getEntriesByName('cutover-overview-painted')[0];
            return [paint ? paint.startTime : null, mark ? mark.startTime : null];
        """)

    # --- the scenario -------------------------------------------------------------------

    def run(self):
        site = self.api("/api/sites")[0]["name"]
        stats = self.api(f"/api/sites/{site}/stats")
        counts = stats["counts"]

        step("overview shows the API's counts, fallback health and the burndown")
        self.open("overview")
        for owner in ("php", "swift", "static"):
            self.text_appears(f"[data-name={owner}] .figure", f"{counts[owner]:,}")
        assert counts["php"] > 0 and counts["static"] > 0, counts
        self.text_appears("[data-name=fallback] .figure", "healthy")
        self.text_appears("[data-name=drift] .figure", str(stats["driftCount"]))
        # The demo's first run: its Apache's access log is imported at start (demo visitors).
        first = self.api(f"/api/sites/{site}/traffic/summary")
        assert first["last7"]["pageHits"] > 0, first
        self.text_appears("[data-name=traffic-7] .figure", f"{first['last7']['percentOnSwift']:.1f}%")
        self.text_appears("[data-name=port-next]", "/contact.php")
        self.text_appears("main", f"{stats['percentOnSwift']}%")
        assert self.all(".chart svg path.line.php"), "no burndown line"
        self.no_script_ran()
        self.shot("overview-1280")

        step("a symbolic link to /etc is a warning on the overview: the link, its URL and the deny line, nothing beneath it")
        exposures = self.api(f"/api/sites/{site}/exposures")
        assert [exposure["url"] for exposure in exposures] == ["/etc-link"], exposures
        self.text_appears("[data-name=exposures] h2", "1 symbolic link makes a private place public")
        self.text_appears("[data-name=exposures] li", "/etc-link (etc-link)")
        self.text_appears("[data-name=exposures] pre", 'RedirectMatch 404 "^/etc-link(/|$)"')
        warning = self.css("[data-name=exposures]").text
        assert "passwd" not in warning and "/etc-link/" not in warning, warning
        self.shot("overview-exposure")

        step("imported access logs show Swift's share, port next and noise, as text")
        # The demo's serve reads logs only under its log roots: $DEMO_DIR/logs is one.
        log_dir = tempfile.mkdtemp(prefix="cutover-browser-log", dir=os.path.join(os.environ["DEMO_DIR"], "logs"))
        stamp = datetime.datetime.now(datetime.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
        # Each page value twice: a key whose values are new on every request names no page.
        requests = [("/contact.php", 200)] * 7 + [("/index.php?page=about", 200), ("/index.php?page=team", 200), ("/index.php?page=home", 200)] * 2 \
            + [("/<script>alert(2)</script>", 404), ("/<script>alert(2)</script>", 404)]
        with open(os.path.join(log_dir, "access.log"), "w") as log:
            for path, status in requests:
                log.write(f'192.0.2.1 - - [{stamp}] "GET {path} HTTP/1.1" {status} 10 "-" "Mozilla/5.0"\n')
        # Combined lines, unlike the demo's own log (combined plus %R and %D).
        self.api(f"/api/sites/{site}", "PUT", {"accessLogs": [os.path.join(log_dir, "access.log")], "accessLogFormat": "combined"})
        job = self.api(f"/api/sites/{site}/jobs", "POST", {"kind": "logs"})
        for _ in range(200):
            job = self.api(f"/api/jobs/{job['id']}")
            if job["state"] != "running":
                break
            time.sleep(0.05)
        assert job["state"] == "succeeded", job
        summary = self.api(f"/api/sites/{site}/traffic/summary")
        self.open("overview")
        self.driver.refresh()  # the hash is unchanged: reload to fetch again
        self.text_appears("[data-name=traffic-7] .figure", f"{summary['last7']['percentOnSwift']:.1f}%")
        self.text_appears("[data-name=port-next]", "/contact.php")
        self.text_appears("[data-name=noise]", "/%3Cscript%3Ealert(2)%3C/script%3E")
        self.text_appears("[data-name=page-keys]", "/index.php=page — 3 values in 6 of 6 requests")
        assert self.all(".chart svg rect.bar"), "no daily traffic bars"
        self.no_script_ran()
        self.shot("overview-traffic")

        step("the table filters by owner and by text")
        self.filter_urls(owner="static")
        static_total = self.api(f"/api/sites/{site}/urls?owner=static&limit=1")["total"]
        owners = [tag.text for tag in self.all("table.urls tbody tr td:nth-child(3) .tag")]
        assert owners and set(owners) == {"static"}, f"owner filter shows {owners}"
        assert len(owners) == static_total, f"{len(owners)} static rows, API says {static_total}"
        self.filter_urls(q="catalogue")
        assert self.row_paths() == ["/products/old%20catalogue.php"], self.row_paths()

        step("the table sorts and filters by requests from the logs")
        self.open_urls("sort=hits&order=desc&minHits=1")
        self.wait_for_rows()
        assert Select(self.css("form.filters [name=sort]")).first_selected_option.text == "hits"
        assert self.css("form.filters [name=minHits]").get_attribute("value") == "1"
        # The demo's own visitors and probes are in the log too: the table shows what the API says.
        expected = self.api(f"/api/sites/{site}/urls?sort=hits&order=desc&minHits=1")["items"]
        assert self.row_paths() == [item["path"] for item in expected], (self.row_paths(), expected)
        assert self.row_paths()[0] == "/contact.php", self.row_paths()
        hits = [cell.text for cell in self.all("table.urls tbody tr td:last-child")]
        assert hits == [f"{item['hits']:,}" for item in expected], hits

        step("a file named like markup is shown as text and runs nothing; so are its parity differences")
        # A parity run's values are whatever the pages sent: stored as text, shown as text.
        with sqlite3.connect(os.environ["DB"]) as db:
            url_id, site_id = db.execute("SELECT id, site_id FROM urls WHERE path LIKE '%onerror%'").fetchone()
            now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.000")
            run_id = db.execute(
                "INSERT INTO parity_runs (site_id, started_at, finished_at, status, concurrency, url_count, different_count) "
                "VALUES (?, ?, ?, 'succeeded', 1, 1, 1)", (site_id, now, now)).lastrowid
            differences = [{"field": "html/head/title/text()", "php": PARITY_XSS, "swift": None}]
            db.execute("INSERT INTO parity_results (run_id, url_id, verdict, differences, noise, fields) VALUES (?, ?, 'different', ?, ?, 9)",
                       (run_id, url_id, json.dumps(differences), json.dumps(["html/body/footer/text()"])))
            db.execute("UPDATE urls SET parity = 'different', parity_run = ? WHERE id = ?", (run_id, url_id))
        self.filter_urls(q="onerror")
        paths = self.row_paths()
        assert len(paths) == 1 and "onerror" in paths[0], paths
        self.all("table.urls tbody th.path a")[0].click()
        self.text_appears(".facts", XSS_NAME)
        shown = [dd.text for dd in self.all(".facts dd") if "onerror" in dd.text]
        assert XSS_NAME in shown, f"file name shown as {shown}"
        self.text_appears("[data-name=parity] table.parity", PARITY_XSS)
        self.text_appears("[data-name=parity] table.parity td.absent", "(none)")
        self.text_appears("[data-name=parity] details.noise summary", "1 noise fields")
        self.no_script_ran()
        self.shot("xss-file-detail")
        self.open("overview")
        self.driver.refresh()
        self.text_appears("[data-name=parity] [data-name=different] .figure", "1")
        self.text_appears("[data-name=last-parity]", "1 pages: 0 same, 1 different")

        step("flipping without a token says what to do; with the token the flip reaches the API")
        self.filter_urls(q="contact")
        assert self.row_paths() == ["/contact.php"], self.row_paths()
        self.css("table.urls tbody input[type=checkbox]").click()
        self.css("[data-flip=swift]").click()
        self.css("#confirm-reason").send_keys("moved to Swift in the browser test")
        self.css("#confirm-ok").click()
        self.text_appears("#notice", "API token")
        url = self.api(f"/api/sites/{site}/urls?q=contact")["items"][0]
        assert url.get("plannedOwner") is None, f"flip without token changed the plan: {url}"
        self.set_token(self.token)
        box = self.css("table.urls tbody input[type=checkbox]")
        assert box.is_selected(), "the selection was lost after the refused flip"
        self.css("[data-flip=swift]").click()
        self.css("#confirm-reason").send_keys("moved to Swift in the browser test")
        self.css("#confirm-ok").click()
        self.text_appears("#notice", "planned for swift")
        url = self.api(f"/api/sites/{site}/urls?q=contact")["items"][0]
        assert url.get("plannedOwner") == "swift", f"the API does not see the flip: {url}"
        detail = self.api(f"/api/sites/{site}/urls/{url['id']}")
        assert any(event.get("reason", "").endswith("moved to Swift in the browser test") for event in detail["events"]), detail["events"]

        step("a page key declared in the Sites form makes each logged value a page")
        self.open(f"sites?edit={site}")
        self.text_appears("form.site-form h2", f"Edit {site}")
        keys = self.css("form.site-form [name=pageKeys]")
        keys.clear()
        keys.send_keys("/index.php=page")
        ignores = self.css("form.site-form [name=parityIgnore]")
        ignores.clear()
        ignores.send_keys("html/body/footer\nheader:vary")
        self.css("form.site-form button[type=submit]").click()
        for _ in range(100):
            if self.api(f"/api/sites/{site}")["pageKeys"]:
                break
            time.sleep(0.05)
        saved = self.api(f"/api/sites/{site}")
        assert saved["pageKeys"] == [{"script": "/index.php", "key": "page"}]
        assert saved["parity"]["ignore"] == ["html/body/footer", "header:vary"] and saved["parity"]["scheduled"] is False, saved["parity"]
        self.filter_urls(q="?page=")
        assert self.row_paths() == ["/index.php?page=about", "/index.php?page=home", "/index.php?page=team"], self.row_paths()

        step("the export view shows the preview, the diff and the directives")
        self.open("export?form=vhost")
        self.text_appears("pre.directives", 'RewriteRule "^/contact\\.php$"')
        self.text_appears("main table", "/contact.php")
        self.text_appears("main", "No export of this form stored yet")
        self.css("main section:nth-of-type(3) button.primary").click()
        self.text_appears("#notice", "Stored as export #")
        self.text_appears("main", "identical")
        exports = self.api(f"/api/sites/{site}/exports")
        assert exports and exports[0]["form"] == "vhost", exports
        self.shot("export")

        step("the site form shows the API's validation message")
        self.open("sites")
        self.css("form.site-form [name=name]").send_keys("second")
        self.css("form.site-form [name=docroot]").send_keys("/srv/none")
        self.css("form.site-form [name=publicURL]").send_keys("ftp://example")
        self.css("form.site-form [name=backendURL]").send_keys("http://127.0.0.1:9")
        self.css("form.site-form button[type=submit]").click()
        self.text_appears(".form-message", "must start with http")
        assert len(self.api("/api/sites")) == 1, "an invalid site was stored"

        step("nodes: a probe asks each node; the overview names the one that does not answer; a fleet whose database is away is fail-safe")
        info = self.api(f"/api/sites/{site}")
        dead = "http://127.0.0.1:9"
        self.api(f"/api/sites/{site}", "PUT", {"nodes": [info["publicURL"], dead], "fleet": {"databaseURL": "postgres://cutover@127.0.0.1:9/cutover?connect_timeout=1"}})
        job = self.api(f"/api/sites/{site}/jobs", "POST", {"kind": "probe"})
        for _ in range(600):
            job = self.api(f"/api/jobs/{job['id']}")
            if job["state"] != "running":
                break
            time.sleep(0.05)
        assert job["state"] == "succeeded", job
        stats = self.api(f"/api/sites/{site}/stats")
        nodes = stats["nodes"]
        assert [node["label"] for node in nodes] == [info["publicURL"].split("//")[1], "127.0.0.1:9"], nodes
        # The one live node is what the site URL reaches: it drifts exactly where the site does.
        assert nodes[0]["driftedURLs"] == stats["driftCount"] and nodes[1]["errorCount"] == nodes[1]["urlCount"] > 0, nodes
        self.open("overview")
        self.driver.refresh()
        self.text_appears("[data-name=nodes] tr[data-node='127.0.0.1:9']", "no answer")
        self.text_appears(f"[data-name=nodes] tr[data-node='{nodes[0]['label']}']", "node drift" if nodes[0]["driftedURLs"] else "agrees")
        self.text_appears("[data-name=nodes] tr[data-node='127.0.0.1:9'] td:last-child", f"{nodes[1]['errorCount']:,}")
        self.text_appears("[data-name=fail-safe]", "Fail-safe: the fleet\u2019s database cannot be reached")
        self.shot("overview-nodes")
        self.api(f"/api/sites/{site}", "PUT", {"nodes": [], "fleet": {"databaseURL": ""}})
        assert "fleet" not in self.api(f"/api/sites/{site}"), "the fleet was not removed"

        step("canaries: the overview shows a canary's weight, its window and decisions; Abort asks, then ends it")
        candidates = self.api(f"/api/sites/{site}/urls?owner=php&planned=php&include=false&limit=50")["items"]
        page = next(u["path"] for u in candidates if "?" not in u["path"] and "%" not in u["path"])
        self.api(f"/api/sites/{site}/canaries", "POST", {"name": "browser-canary", "paths": [page], "steps": [5, 50, 100]})
        self.api(f"/api/sites/{site}/canaries/browser-canary", "PUT", {"weight": 5})
        self.open("overview")
        self.driver.refresh()
        card = "[data-name=canaries] [data-canary=browser-canary]"
        self.text_appears(f"{card} [data-name=status]", "5 % of visitors on Swift, stepped by hand")
        self.text_appears(f"{card} [data-name=window]", "waiting for traffic: 0 of 50 requests on Swift")
        self.text_appears(f"{card} table.decisions", "weight 0 \u2192 5 %")
        self.css(f"{card} svg title")
        self.shot("overview-canary")
        self.css(f"{card} button.danger").click()
        self.css("#confirm-ok").click()
        self.text_appears(f"{card} [data-name=status]", "aborted")
        assert self.api(f"/api/sites/{site}/canaries/browser-canary")["canary"]["state"] == "aborted"

        step("every control is labelled; readable at phone width")
        unlabelled = self.driver.execute_script("""
            return [...document.querySelectorAll('input, select, button')]
              .filter((e) => e.offsetParent !== null)
              .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
              .map((e) => e.outerHTML.slice(0, 80));
        """)
        assert not unlabelled, f"controls without a label: {unlabelled}"
        self.driver.set_window_size(390, 844)
        self.open("overview")
        self.css("[data-name=php] .figure")
        overflow = self.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the overview scrolls sideways by {overflow}px at phone width"
        self.shot("overview-phone")
        self.driver.set_window_size(1280, 900)

        step("keyboard: the URL links are reachable with Tab")
        self.open("urls")
        self.wait_for_rows()
        body = self.css("body")
        reached = []
        for _ in range(40):
            body.send_keys("\ue004")  # Tab
            reached.append(self.driver.execute_script("return document.activeElement.closest('th.path') !== null"))
            if reached[-1]:
                break
        assert any(reached), "Tab never reaches a URL link"
        self.no_script_ran()

        errors = [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"
                  and "401" not in entry["message"] and "422" not in entry["message"]]
        assert not errors, f"browser console errors: {errors}"

    def close(self):
        self.driver.quit()


def step(text):
    print(f"browser: {text}", flush=True)


def main():
    base, token, artifacts = sys.argv[1:4]
    os.makedirs(artifacts, exist_ok=True)
    dashboard = Dashboard(base, token, artifacts)
    try:
        if "--first-paint-only" in sys.argv:
            runs = [dashboard.first_paint() for _ in range(5)]
            paints = sorted(run[0] for run in runs)
            overview = sorted(run[1] for run in runs)
            report = (f"first contentful paint ms (5 loads): {', '.join(f'{x:.0f}' for x in paints)}; "
                      f"overview with data painted ms: {', '.join(f'{x:.0f}' for x in overview)}")
            print(f"browser: {report}")
            with open(os.path.join(artifacts, "first-paint.txt"), "a") as file:
                file.write(report + "\n")
            dashboard.shot("overview-100k")
            return
        dashboard.run()
        print("browser: all checks passed; screenshots in", artifacts)
    except Exception:
        print("browser: failed; screenshot", dashboard.shot("failure"), file=sys.stderr)
        raise
    finally:
        dashboard.close()


if __name__ == "__main__":
    main()
