#!/usr/bin/env python3
"""Benchmarks that need a live Apache (issues 3 and 4), with a release build of cutover.

  probe   10,000 URLs (static, php, and pages served through the fallback) probed by
          `cutover probe --concurrency 32` and by `curl --parallel --parallel-max 32` over the
          same URL list on the same Apache, alternating for ROUNDS rounds (default 5); prints
          median throughput of both, the ratio per round and Cutover's peak memory.
  export  time to render 10,000 flips, and Apache throughput (curl --parallel) with 0 flips,
          5,000 per-page rules, 5,000 flips in a txt: RewriteMap and in a dbm=gdbm: one.
  fleet [N]  route tables at N flips (default 50,000; the README's table also has 5,000) (#28): `cutover publish` of N flips to PostgreSQL
          (first and incremental), the flip latency from a publish to the first request Swift
          answers through a node whose `cutover node-agent` keeps its dbm map (or tree), and Apache
          throughput over 5,000 unflipped PHP pages (each asked four times, shuffled, after one
          warm-up pass) with no flips, N per-page rules, a txt: map, the agent's gdbm map and tree,
          and mod_dbd maps (dbd and fastdbd on PostgreSQL, dbd on SQLite); then p99 of a PHP page
          through the dbd form with PostgreSQL stopped and black-holed.
  parity  10,000 pages (about 4 KB of HTML each, with a random token and the time) compared by
          `cutover parity --concurrency 32` through the site's own export (30,000 requests: PHP,
          Swift, PHP again) and fetched by `curl --parallel --parallel-max 32` with the same 30,000
          requests and side headers, alternating for ROUNDS rounds (default 3); prints both
          throughputs, their ratio per round (target >= 0.8) and Cutover's peak memory.
  canaries  progressive flips (#29): Apache throughput over 5,000 PHP pages with the tree export and
          no canary against the same site with 100 canaries live (10 pages each, 1,000 of the
          5,000 pages, weight 0 so that PHP answers both runs), side by side, alternating for
          ROUNDS rounds (default 3); then one step's analysis over 1,000,000 imported requests
          (both sides, with %D and %R) of a 100-page canary: the import, and `cutover canary show`.

The "Swift backend" is a second port of the same Apache answering every path with a marker
header, so that neither tool is limited by a slow stand-in.
Usage: scripts/bench-apache.py [probe|export|fleet [FLIPS]|parity|canaries|all]
"""
import glob
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("CUTOVER_BIN", os.path.join(ROOT, ".build/release/cutover"))
MODULES = "/usr/lib/apache2/modules"


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Apache:
    def __init__(self, work, docroot, include=""):
        self.work, self.docroot = work, docroot
        self.port, self.backend_port = free_port(), free_port()
        os.makedirs(f"{work}/backend", exist_ok=True)
        with open(f"{work}/backend/ok.html", "w") as f:
            f.write("swift\n")
        php = sorted(glob.glob(f"{MODULES}/libphp*.so"))[-1]
        mods = "\n".join(f"LoadModule {m}_module {MODULES}/mod_{m}.so" for m in
                         ["mpm_prefork", "authz_core", "dir", "mime", "rewrite", "proxy", "proxy_http", "headers", "setenvif", "dbd"])
        self.conf = f"{work}/httpd.conf"
        with open(self.conf, "w") as f:
            f.write(f"""ServerRoot "/etc/apache2"
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
Listen 127.0.0.1:{self.backend_port}
PidFile "{work}/httpd.pid"
DefaultRuntimeDir "{work}"
ErrorLog "{work}/error.log"
User www-data
Group www-data
{mods}
LoadModule php_module {php}
TypesConfig /etc/mime.types
StartServers 64
MinSpareServers 32
MaxSpareServers 64
ServerLimit 128
MaxRequestWorkers 128
MaxKeepAliveRequests 0
KeepAlive On
<FilesMatch ".+\\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
<VirtualHost 127.0.0.1:{self.backend_port}>
    DocumentRoot "{work}/backend"
    <Directory "{work}/backend">
        Require all granted
        RewriteEngine On
        RewriteRule ^ ok.html [L]
        Header always set X-Cutover-Owner swift
    </Directory>
</VirtualHost>
<VirtualHost 127.0.0.1:{self.port}>
    DocumentRoot "{docroot}"
    DirectoryIndex index.php index.html
    <Directory "{docroot}">
        Options FollowSymLinks
        AllowOverride None
        Require all granted
    </Directory>
    {include}
</VirtualHost>
""")
        subprocess.run(["apache2", "-f", self.conf, "-k", "start"], check=True, start_new_session=True)
        time.sleep(1.0)

    def stop(self):
        subprocess.run(["apache2", "-f", self.conf, "-k", "stop"], check=False)
        time.sleep(0.5)


def run_measured(args, **kw):
    start = time.perf_counter()
    result = subprocess.run(args, capture_output=True, check=False, **kw)
    return time.perf_counter() - start, result


CURL_CPU = []  # CPU seconds of each curl run, for the per-URL comparison


def curl_parallel(urls, work, parallel=32):
    """`urls`: URLs, or (URL, header) pairs sent with that request header."""
    listing = f"{work}/curl.txt"
    with open(listing, "w") as f:
        for url in urls:
            url, header = url if isinstance(url, tuple) else (url, None)
            f.write(f'url = "{url}"\noutput = "/dev/null"\n')
            if header:
                f.write(f'header = "{header}"\nnext\n')
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, _ = run_measured(["curl", "-s", "--parallel", "--parallel-max", str(parallel), "-K", listing])
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    CURL_CPU.append((usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime))
    return seconds


def make_site(work, pages, statics, gone):
    docroot = f"{work}/htdocs"
    for i in range(pages + statics + gone):
        d = f"{docroot}/s{i % 20}"
        os.makedirs(d, exist_ok=True)
        if i < pages or i >= pages + statics:
            with open(f"{d}/p{i}.php", "w") as f:
                f.write(f"<?php echo 'page {i}';")
        else:
            with open(f"{d}/f{i}.css", "w") as f:
                f.write("body{}" * 20)
    subprocess.run(["chmod", "-R", "a+rX", work], check=True)
    return docroot


def bench_probe():
    work = tempfile.mkdtemp(prefix="cutover-bench-probe-")
    os.chmod(work, 0o755)
    try:
        docroot = make_site(work, 4000, 4000, 2000)
        db = f"{work}/db.sqlite"
        apache = Apache(work, docroot, include=f"""<Directory "{docroot}">
        RewriteEngine On
        RewriteCond %{{REQUEST_FILENAME}} !-f
        RewriteCond %{{REQUEST_FILENAME}} !-d
        RewriteRule ^(.*)$ http://127.0.0.1:BACKEND/$1 [P,QSA,L,NS]
        Header always set X-Cutover-Handler "expr=%{{HANDLER}}"
    </Directory>""")
        # Patch the backend port into the include and reload.
        with open(apache.conf) as f:
            text = f.read().replace("BACKEND", str(apache.backend_port))
        with open(apache.conf, "w") as f:
            f.write(text)
        subprocess.run(["apache2", "-f", apache.conf, "-k", "graceful"], check=True)
        time.sleep(1)
        site = ["--db", db, "--docroot", docroot, "--site-url", f"http://127.0.0.1:{apache.port}",
                "--backend-url", f"http://127.0.0.1:{apache.backend_port}"]
        subprocess.run([BIN, "crawl", *site], check=True, stdout=subprocess.DEVNULL)
        # The last 2,000 pages lose their file: the fallback serves them.
        for path in glob.glob(f"{docroot}/s*/p*.php"):
            if int(os.path.basename(path)[1:-4]) >= 8000:
                os.remove(path)
        subprocess.run([BIN, "crawl", "--db", db], check=True, stdout=subprocess.DEVNULL)
        urls = json.loads(subprocess.run([BIN, "urls", "--db", db, "--json"], check=True, stdout=subprocess.PIPE).stdout)
        targets = [f"http://127.0.0.1:{apache.port}{u['path']}" for u in urls]
        owners = {}
        for u in urls:
            owners[u["owner"]] = owners.get(u["owner"], 0) + 1
        curl_parallel(targets[:500], work)  # warm up Apache's children
        CURL_CPU.clear()
        prefix = os.environ.get("PROBE_PREFIX", "").split()
        probe = [*prefix, BIN, "probe", "--db", db, "--concurrency", "32", "--no-backend-check",
                 "--log-level", os.environ.get("LOG_LEVEL", "warning")]
        # Rounds alternate the tools so that all see the same machine; on a shared 2-core VM
        # single runs of either varied by 20%. `probe` prints a summary (as from cron);
        # `probe --json` also serializes all 10,000 results to stdout.
        rounds = int(os.environ.get("ROUNDS", "5"))
        runs = {"text": [], "json": [], "curl": []}
        peak, cpu = 0, []
        for _ in range(rounds):
            for mode in ("text", "json"):
                usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                seconds, result = run_measured(probe + (["--json"] if mode == "json" else []))
                usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                sys.stderr.write(result.stderr.decode()[-2000:])
                if result.returncode != 0:
                    sys.exit(f"cutover probe failed with status {result.returncode}")
                if mode == "json":
                    report = json.loads(result.stdout)
                else:
                    cpu.append((usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime))
                runs[mode].append(seconds)
                peak = max(peak, usage1.ru_maxrss)
            runs["curl"].append(curl_parallel(targets, work))
        n = len(targets)
        def median(values):
            return sorted(values)[len(values) // 2]

        run = report["run"]
        print(f"probe: {n} URLs {owners}, drift {run['driftCount']}, errors {run['errorCount']}, fallback healthy {report['fallback']['healthy']}")
        print("  rounds (probe / probe --json / curl, s): " + ", ".join(
            f"{a:.2f}/{b:.2f}/{c:.2f}" for a, b, c in zip(runs["text"], runs["json"], runs["curl"], strict=True)))
        for mode, label in (("text", "cutover probe --concurrency 32:       "), ("json", "cutover probe --concurrency 32 --json:"),
                            ("curl", "curl --parallel-max 32:               ")):
            print(f"  {label} median {median(runs[mode]):.2f} s = {n / median(runs[mode]):.0f} URLs/s")
        for mode in ("text", "json"):
            ratios = [c / s for s, c in zip(runs[mode], runs["curl"], strict=True)]
            print(f"  ratio to curl's throughput ({mode}): median {median(ratios):.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f})")
        print(f"  cutover peak RSS {peak / 1024:.0f} MB, CPU per probe (median) {median(cpu):.2f} s"
              f" = {median(cpu) / n * 1e6:.0f} us per URL; curl {median(CURL_CPU):.2f} s = {median(CURL_CPU) / n * 1e6:.0f} us per URL"
              f" (ratio {median(cpu) / median(CURL_CPU):.2f})")
        apache.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_export():
    work = tempfile.mkdtemp(prefix="cutover-bench-export-")
    os.chmod(work, 0o755)
    try:
        docroot = make_site(work, 10000, 0, 0)
        db = f"{work}/db.sqlite"
        site = ["--db", db, "--docroot", docroot]
        subprocess.run([BIN, "crawl", *site], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([BIN, "flip", "--db", db, "--glob", "/s*/p*.php", "--to", "swift"], check=True, stdout=subprocess.DEVNULL)
        seconds, _ = run_measured([BIN, "export", "--db", db, "-o", f"{work}/all.conf"])
        print(f"export: render + store 10,000 flips (cutover export, whole command): {seconds:.2f} s")
        # Apache throughput over 5,000 unflipped PHP pages (each request walks every rule).
        subprocess.run([BIN, "flip", "--db", db, "--glob", "/s*/p*.php", "--to", "php"], check=True, stdout=subprocess.DEVNULL)
        first_half = [f"/s{i % 20}/p{i}.php" for i in range(5000)]
        subprocess.run([BIN, "flip", "--db", db, "--to", "swift", *first_half], check=True, stdout=subprocess.DEVNULL)
        probe_urls = [f"/s{i % 20}/p{i}.php" for i in range(5000, 10000)]
        results = {}
        for mode in ["none", "rules", "map", "dbm"]:
            conf = f"{work}/cutover-{mode}.conf"
            map_file = f"{work}/flips.{mode}"
            if mode == "none":
                subprocess.run([BIN, "flip", "--db", db, "--glob", "/s*/p*.php", "--to", "php"], check=True, stdout=subprocess.DEVNULL)
                subprocess.run([BIN, "export", "--db", db, "-o", conf], check=True)
                subprocess.run([BIN, "flip", "--db", db, "--to", "swift", *first_half], check=True, stdout=subprocess.DEVNULL)
            elif mode == "rules":
                subprocess.run([BIN, "export", "--db", db, "-o", conf], check=True)
            else:
                form = "rewritemap" if mode == "map" else "dbm"
                subprocess.run([BIN, "export", "--db", db, "--form", form, "--map-file", map_file, "-o", conf], check=True)
                subprocess.run([BIN, "apply", "--db", db, "--form", form, "--map-file", map_file], check=True, stdout=subprocess.DEVNULL)
            with open(conf) as f:
                flips = f.read().count("RewriteRule \"^/s")
            apache = Apache(work + f"/{mode}", docroot, include=f'Include "{conf}"')
            urls = [f"http://127.0.0.1:{apache.port}{p}" for p in probe_urls]
            curl_parallel(urls[:1000], apache.work)
            seconds = min(curl_parallel(urls, apache.work) for _ in range(3))
            results[mode] = len(urls) / seconds
            ratio = f" = {results[mode] / results['none']:.2f} x no flips" if "none" in results and mode != "none" else ""
            print(f"  apache, {mode:5} ({flips} per-page rules): {results[mode]:.0f} req/s over {len(urls)} PHP pages{ratio}")
            apache.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Postgres:
    """A throwaway PostgreSQL on loopback (run as the postgres user when we are root)."""

    def __init__(self, work):
        self.dir = f"{work}/pg"
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o777)
        self.bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        self.port = free_port()
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run([*self.as_pg, f"{self.bin}/initdb", "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres", "--no-sync"],
                       check=True, stdout=subprocess.DEVNULL)
        self.start()

    def start(self):
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"
        subprocess.run([*self.as_pg, f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-o", opts, "-l", f"{self.dir}/log", "-w", "start"],
                       check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True)

    def stop(self):
        subprocess.run([*self.as_pg, f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-m", "immediate", "-w", "stop"],
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def url(self):
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"


def swift_stand_in():
    """A Swift backend stand-in on a free port (a thread of this script): 200 with the owner marker."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("X-Cutover-Owner", "swift")
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"swift\n")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def quiet(args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def p99_ms(url, count=400):
    import urllib.request
    times = []
    for _ in range(count):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as answer:
            answer.read()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[int(len(times) * 0.99) - 1]


def bench_fleet(flips=50000):
    import random
    import socket
    import sqlite3
    import threading
    import urllib.request
    work = tempfile.mkdtemp(prefix="cutover-bench-fleet-")
    os.chmod(work, 0o755)
    postgres = None
    agent = None
    try:
        others = 5000
        print(f"fleet: {flips:,} flips, requests to {others:,} other PHP pages")
        docroot = make_site(work, flips + others, 0, 0)
        db = f"{work}/db.sqlite"
        backend = swift_stand_in()
        quiet([BIN, "crawl", "--db", db, "--docroot", docroot, "--backend-url", f"http://127.0.0.1:{backend}/"])
        unflipped = [f"/s{i % 20}/p{i}.php" for i in range(flips, flips + others)]
        site_none = f"{work}/none.conf"
        subprocess.run([BIN, "export", "--db", db, "-o", site_none], check=True)
        quiet([BIN, "flip", "--db", db, "--glob", "/s*/p*.php", "--to", "swift"])
        for start in range(0, others, 1000):
            quiet([BIN, "flip", "--db", db, "--to", "php", *unflipped[start:start + 1000]])
        postgres = Postgres(work)
        publish = [BIN, "publish", "--db", db, "--database-url", postgres.url, "--json"]
        seconds, result = run_measured(publish)
        first = json.loads(result.stdout)
        print(f"fleet: publish {first['pages']} flips to PostgreSQL: {first['milliseconds']} ms in the database, "
              f"{seconds:.2f} s whole command (target < 1 s)")
        quiet([BIN, "flip", "--db", db, "--to", "swift", unflipped[0]])
        seconds, result = run_measured(publish)
        again = json.loads(result.stdout)
        print(f"  publish of one more flip: {again['milliseconds']} ms in the database (+{again['added']} -{again['removed']}), "
              f"{seconds:.2f} s whole command")
        quiet([BIN, "flip", "--db", db, "--to", "php", unflipped[0]])
        quiet(publish)

        requests = unflipped * 4
        random.Random(7).shuffle(requests)
        results = {}

        def measure(mode, include, runs=3, note=""):
            apache = Apache(work + f"/{mode}", docroot, include=include)
            try:
                urls = [f"http://127.0.0.1:{apache.port}{p}" for p in requests]
                warm = [f"http://127.0.0.1:{apache.port}{p}" for p in unflipped]
                curl_parallel(warm, apache.work)
                seconds = min(curl_parallel(urls, apache.work) for _ in range(runs))
                results[mode] = len(urls) / seconds
                ratio = f" = {results[mode] / results['none']:.2f} x no flips" if mode != "none" else ""
                print(f"  apache, {mode:14}: {results[mode]:7.0f} req/s over {len(urls)} requests{ratio}{note}")
            finally:
                apache.stop()
            return apache

        measure("none", f'Include "{site_none}"')
        conf = f"{work}/rules.conf"
        subprocess.run([BIN, "export", "--db", db, "-o", conf], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        measure("rules", f'Include "{conf}"', runs=1, note=" (one run)")
        txt_map, txt_conf = f"{work}/flips.txt", f"{work}/txt.conf"
        subprocess.run([BIN, "export", "--db", db, "--form", "rewritemap", "--map-file", txt_map, "-o", txt_conf], check=True)
        quiet([BIN, "apply", "--db", db, "--form", "rewritemap", "--map-file", txt_map])
        measure("txt", f'Include "{txt_conf}"', runs=1, note=" (one run)")

        # The fleet form: an agent keeps the node's map (a gdbm file, or a folder of marker files);
        # the node's dbm or tree export reads it.
        def start_agent(form, path):
            with open(f"{work}/agent-{form}.log", "w") as agent_log:
                process = subprocess.Popen([BIN, "node-agent", "--site", "default", "--map-file", path, "--form", form,
                                            "--node", f"bench-{form}", "--database-url", postgres.url, "--poll", "5"],
                                           stdout=agent_log, stderr=agent_log)
            for _ in range(1200):
                nodes = subprocess.run([*publish, "--nodes"], capture_output=True, check=False)
                listed = json.loads(nodes.stdout or "{}").get("nodes", [])
                if any(n["node"] == f"bench-{form}" and n["current"] for n in listed):
                    break
                time.sleep(0.05)
            return process

        def flip_latency(conf, label):
            # Flip one page, publish, poll the node until Swift answers it.
            apache = Apache(work + f"/latency-{label}", docroot, include=f'Include "{conf}"')
            latencies = []
            try:
                for page in unflipped[:5]:
                    quiet([BIN, "flip", "--db", db, "--to", "swift", page])
                    start = time.perf_counter()
                    quiet(publish)
                    deadline = time.perf_counter() + 30
                    while time.perf_counter() < deadline:
                        request = urllib.request.Request(f"http://127.0.0.1:{apache.port}{page}")
                        try:
                            with urllib.request.urlopen(request, timeout=10) as answer:
                                swift = answer.headers.get("X-Cutover-Owner") == "swift"
                        except urllib.error.HTTPError as error:
                            swift = error.headers.get("X-Cutover-Owner") == "swift"
                        if swift:
                            break
                        time.sleep(0.002)
                    latencies.append(time.perf_counter() - start)
                    quiet([BIN, "flip", "--db", db, "--to", "php", page])
                quiet(publish)
            finally:
                apache.stop()
            latencies.sort()
            print(f"  flip latency, {label} (cutover publish started -> first Swift answer through the node): median "
                  f"{latencies[2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms over 5 flips (whole publish command included; goal < 1 s)")

        gdbm_map, gdbm_conf = f"{work}/node.gdbm", f"{work}/gdbm.conf"
        agent = start_agent("dbm", gdbm_map)
        subprocess.run([BIN, "export", "--db", db, "--form", "dbm", "--map-file", gdbm_map, "-o", gdbm_conf], check=True)
        measure("gdbm (agent)", f'Include "{gdbm_conf}"')
        flip_latency(gdbm_conf, "gdbm")
        agent.terminate()
        agent.wait()
        tree_folder, tree_conf = f"{work}/node-flips", f"{work}/tree.conf"
        started = time.perf_counter()
        agent = start_agent("tree", tree_folder)
        print(f"  tree: the agent wrote {flips} marker files in {time.perf_counter() - started:.1f} s (first start)")
        subprocess.run([BIN, "export", "--db", db, "--form", "tree", "--map-file", tree_folder, "-o", tree_conf], check=True)
        measure("tree (agent)", f'Include "{tree_conf}"')
        flip_latency(tree_conf, "tree")
        agent.terminate()
        agent.wait()
        agent = None

        # mod_dbd forms: the dbm export with its RewriteMap line replaced. The query always returns one
        # row: on an empty result PostgreSQL's driver sleeps 100 ms (measured) before giving up.
        with open(gdbm_conf) as f:
            dbm_text = f.read()
        declaration = next(line for line in dbm_text.splitlines() if line.startswith("RewriteMap "))
        map_name = declaration.split()[1]

        def dbd_conf(name, driver, params, kind, query):
            path = f"{work}/{name}.conf"
            with open(path, "w") as f:
                f.write(dbm_text.replace(declaration, f'DBDriver {driver}\nDBDParams "{params}"\nDBDMin 1\nDBDKeep 2\nDBDMax 4\n'
                                                      f'DBDExptime 300\nRewriteMap {map_name} "{kind}:{query}"'))
            return path

        pg_params = f"host=127.0.0.1 port={postgres.port} user=postgres dbname=postgres connect_timeout=2"
        pg_query = ("SELECT coalesce((SELECT 'swift' FROM cutover_route WHERE site = 'default' "
                    "AND key = convert_to(%s, 'UTF8')), 'php')")
        measure("dbd postgres", f'Include "{dbd_conf("dbd-pg", "pgsql", pg_params, "dbd", pg_query)}"')
        measure("fastdbd pg", f'Include "{dbd_conf("fastdbd-pg", "pgsql", pg_params, "fastdbd", pg_query)}"',
                note=" (caches each answer until a restart: no flips without reload)")
        sqlite_dir = f"{work}/sqlite"
        os.makedirs(sqlite_dir)
        os.chmod(sqlite_dir, 0o777)
        routes = sqlite3.connect(f"{sqlite_dir}/routes.sqlite")
        routes.execute("PRAGMA journal_mode=WAL")
        routes.execute("CREATE TABLE route (key TEXT PRIMARY KEY) WITHOUT ROWID")
        with open(txt_map) as f:
            keys = [line.rsplit(" ", 1)[0] for line in f if not line.startswith("#") and line.strip()]
        routes.executemany("INSERT INTO route VALUES (?)", [(k,) for k in keys])
        routes.commit()
        routes.close()
        subprocess.run(["chmod", "-R", "a+rw", sqlite_dir], check=True)
        sqlite_query = "SELECT coalesce((SELECT 'swift' FROM route WHERE key = %s), 'php')"
        if os.path.exists("/usr/lib/x86_64-linux-gnu/apr-util-1/apr_dbd_sqlite3-1.so") or glob.glob("/usr/lib/*/apr-util-1/apr_dbd_sqlite3*.so"):
            measure("dbd sqlite", f'Include "{dbd_conf("dbd-sqlite", "sqlite3", f"{sqlite_dir}/routes.sqlite", "dbd", sqlite_query)}"')
        else:
            print("  apache, dbd sqlite     : skipped (apt-get install libaprutil1-dbd-sqlite3)")

        # A database that is down, through the dbd form (the synced map never asks it).
        apache = Apache(work + "/dbd-down", docroot, include=f'Include "{work}/dbd-pg.conf"')
        hole = None
        try:
            page = f"http://127.0.0.1:{apache.port}{unflipped[0]}"
            up = p99_ms(page)
            postgres.stop()
            stopped = p99_ms(page)
            hole = socket.socket()
            hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            hole.bind(("127.0.0.1", postgres.port))
            hole.listen(512)
            held = []
            threading.Thread(target=lambda: [held.append(hole.accept()) for _ in iter(int, 1)], daemon=True).start()
            holed = p99_ms(page, count=20)
            print(f"  dbd postgres, p99 of one PHP page: database up {up:.1f} ms, stopped {stopped:.1f} ms, "
                  f"black-holed {holed:.0f} ms (goal: +50 ms at most; the agent's forms never ask the database)")
        finally:
            apache.stop()
            if hole:
                hole.close()
    finally:
        if agent:
            agent.terminate()
        if postgres:
            postgres.stop()
        shutil.rmtree(work, ignore_errors=True)


PARITY_PAGE = """<?php header('Cache-Control: private, max-age=0'); $token = bin2hex(random_bytes(16)); ?>
<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Widget {i}</title>
<link rel="stylesheet" href="/css/site.css"><link rel="canonical" href="/s{d}/p{i}.php"></head>
<body><header><nav>{nav}</nav></header>
<main><h1>Widget {i}</h1><p>{text}</p><ul>{items}</ul>
<form id="order" method="post" action="/order.php"><input type="hidden" name="csrf" value="<?= $token ?>">
<label>Quantity <input name="quantity" type="number" value="1"></label><button>Order</button></form></main>
<footer>Generated at <?= sprintf('%.6f', microtime(true)) ?></footer></body></html>
"""


def parity_page(i, php=True):
    nav = "".join(f'<a href="/section-{k}/">Section {k}</a>' for k in range(20))
    items = "".join(f"<li class=\"item\">Feature {k} of widget {i}: sturdy, light and blue.</li>" for k in range(25))
    text = "A widget for every workshop. " * 20
    page = PARITY_PAGE.format(i=i, d=i % 20, nav=nav, items=items, text=text)
    if php:
        return page
    # The Swift twin: the same page with its own token and time.
    return (page.replace("<?php header('Cache-Control: private, max-age=0'); $token = bin2hex(random_bytes(16)); ?>\n", "")
            .replace("<?= $token ?>", "0123456789abcdef0123456789abcdef").replace("<?= sprintf('%.6f', microtime(true)) ?>", "1700000000.000000"))


def bench_parity():
    work = tempfile.mkdtemp(prefix="cutover-bench-parity-")
    os.chmod(work, 0o755)
    pages = int(os.environ.get("PARITY_PAGES", "10000"))
    try:
        docroot = f"{work}/htdocs"
        for i in range(pages):
            os.makedirs(f"{docroot}/s{i % 20}", exist_ok=True)
            with open(f"{docroot}/s{i % 20}/p{i}.php", "w") as f:
                f.write(parity_page(i))
        db = f"{work}/db.sqlite"
        apache = Apache(work, docroot, include="# CUTOVER-EXPORT")
        # The backend answers each page with its Swift twin (a static file beside the path).
        for i in range(pages):
            os.makedirs(f"{work}/backend/s{i % 20}", exist_ok=True)
            with open(f"{work}/backend/s{i % 20}/p{i}.html", "w") as f:
                f.write(parity_page(i, php=False))
        subprocess.run(["chmod", "-R", "a+rX", f"{work}/backend"], check=True)
        site = ["--db", db, "--docroot", docroot, "--site-url", f"http://127.0.0.1:{apache.port}",
                "--backend-url", f"http://127.0.0.1:{apache.backend_port}"]
        subprocess.run([BIN, "crawl", *site], check=True, stdout=subprocess.DEVNULL)
        export = subprocess.run([BIN, "export", "--db", db, "--form", "vhost"], check=True, stdout=subprocess.PIPE).stdout.decode()
        with open(apache.conf) as f:
            text = f.read().replace("# CUTOVER-EXPORT", export).replace("RewriteRule ^ ok.html [L]", "RewriteRule ^(.+)\\.php$ $1.html [L]")
            # What PHP sends with each page: the twin's server sends it too (parity would flag it otherwise).
            text = text.replace("Header always set X-Cutover-Owner swift", "Header always set X-Cutover-Owner swift\n"
                                "        Header set Cache-Control \"private, max-age=0\"\n        AddDefaultCharset UTF-8")
        with open(apache.conf, "w") as f:
            f.write(text)
        subprocess.run(["apache2", "-f", apache.conf, "-k", "graceful"], check=True)
        time.sleep(1.5)
        secret = json.loads(subprocess.run([BIN, "site", "side-secret", "default", "--db", db, "--json"], check=True,
                                           stdout=subprocess.PIPE).stdout)["secret"]
        paths = [f"/s{i % 20}/p{i}.php" for i in range(pages)]
        base = f"http://127.0.0.1:{apache.port}"
        requests = []
        for path in paths:
            for side in ("php", "swift", "php"):
                requests.append((base + path, f"X-Cutover-Side: {side};{secret}"))
        curl_parallel(requests[:600], work)  # warm up Apache's children
        CURL_CPU.clear()
        parity = [BIN, "parity", "--db", db, "--concurrency", "32", "--json", "--log-level", "warning"]
        rounds = int(os.environ.get("ROUNDS", "3"))
        runs = {"parity": [], "curl": []}
        peak, cpu, verdicts = 0, [], {}
        for _ in range(rounds):
            usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            seconds, result = run_measured(parity)
            usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            sys.stderr.write(result.stderr.decode()[-2000:])
            if result.returncode not in (0, 3):
                sys.exit(f"cutover parity failed with status {result.returncode}")
            verdicts, sample = {}, None
            for page in json.loads(result.stdout):
                verdicts[page["verdict"]] = verdicts.get(page["verdict"], 0) + 1
                if page["verdict"] != "same" and sample is None:
                    sample = page
            cpu.append((usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime))
            peak = max(peak, usage1.ru_maxrss)
            runs["parity"].append(seconds)
            runs["curl"].append(curl_parallel(requests, work))
        n = len(requests)

        def median(values):
            return sorted(values)[len(values) // 2]

        print(f"parity: {pages} pages ({len(parity_page(1)) // 1024} KB of PHP source each), {n} requests, verdicts {verdicts}")
        if sample:
            print(f"  a page not the same: {json.dumps(sample)[:600]}")
        print("  rounds (parity / curl, s): " + ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(runs["parity"], runs["curl"], strict=True)))
        print(f"  cutover parity --concurrency 32: median {median(runs['parity']):.2f} s = {n / median(runs['parity']):.0f} requests/s")
        print(f"  curl --parallel-max 32:          median {median(runs['curl']):.2f} s = {n / median(runs['curl']):.0f} requests/s")
        ratios = [c / p for p, c in zip(runs["parity"], runs["curl"], strict=True)]
        print(f"  ratio to curl's throughput: median {median(ratios):.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f}; target >= 0.8)")
        print(f"  cutover peak RSS {peak / 1024:.0f} MB (target <= 300), CPU per run (median) {median(cpu):.2f} s"
              f" = {median(cpu) / pages * 1e3:.2f} ms per page; curl {median(CURL_CPU):.2f} s")
        if os.environ.get("KEEP"):
            print(f"  kept: {work} (Apache still running: apache2 -f {apache.conf} -k stop); parity: {' '.join(parity)}")
            return
        apache.stop()
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)


def bench_canaries():
    import random
    work = tempfile.mkdtemp(prefix="cutover-bench-canaries-")
    os.chmod(work, 0o755)
    rounds = int(os.environ.get("ROUNDS", "9"))
    try:
        docroot = make_site(work, 10000, 0, 0)
        db = f"{work}/db.sqlite"
        quiet([BIN, "crawl", "--db", db, "--docroot", docroot])
        pages = [f"/s{i % 20}/p{i}.php" for i in range(5000)]
        configs = {}
        # No canary: the tree export as it is.
        configs["none"] = f"{work}/none.conf"
        quiet([BIN, "export", "--db", db, "--form", "tree", "--map-file", f"{work}/none.tree", "-o", configs["none"]])
        quiet([BIN, "apply", "--db", db, "--form", "tree", "--map-file", f"{work}/none.tree"])
        # 100 canaries of 10 pages each, at 0 %: every rule runs, PHP answers as before.
        for c in range(100):
            quiet([BIN, "canary", "start", f"c{c}", *pages[c * 10:(c + 1) * 10], "--db", db])
        configs["canaries"] = f"{work}/canaries.conf"
        quiet([BIN, "export", "--db", db, "--form", "tree", "--map-file", f"{work}/canaries.tree", "-o", configs["canaries"]])
        quiet([BIN, "apply", "--db", db, "--form", "tree", "--map-file", f"{work}/canaries.tree"])
        # A second Apache with no canary gives the noise: how far two identical sites differ here.
        configs["none again"] = configs["none"]
        servers = {mode: Apache(f"{work}/{mode.replace(' ', '-')}", docroot, include=f'Include "{conf}"') for mode, conf in configs.items()}
        try:
            order = pages * 2
            random.Random(7).shuffle(order)
            for apache in servers.values():
                curl_parallel([f"http://127.0.0.1:{apache.port}{p}" for p in pages[:1000]], apache.work)

            def measure(paths):
                # Rounds on this machine vary by half: each round runs both sites back to back, in
                # an order drawn per round, and the figure is the median of the rounds' ratios.
                rates = {mode: [] for mode in servers}
                for r in range(rounds):
                    modes = list(servers)
                    random.Random(r).shuffle(modes)
                    for mode in modes:
                        urls = [f"http://127.0.0.1:{servers[mode].port}{p}" for p in paths]
                        rates[mode].append(len(urls) / curl_parallel(urls, servers[mode].work))
                def ratio(mode):
                    ratios = sorted(c / n for c, n in zip(rates[mode], rates["none"], strict=True))
                    return ratios[len(ratios) // 2]
                return rates, ratio("canaries"), ratio("none again")

            rates, ratio, noise = measure(order)
            print(f"canaries: apache over {len(order)} requests to 5,000 PHP pages (1,000 in canaries), tree form, {rounds} rounds:")
            for mode in servers:
                print(f"  {mode + ':':13} {', '.join(f'{r:.0f}' for r in rates[mode])} req/s")
            print(f"  100 canaries against no canary, median of the rounds' ratios: {ratio:.2f} x (goal >= 0.90; "
                  f"no canary against itself: {noise:.2f} x)")
            # The same over the 4,000 pages in no canary: what every other request pays.
            others = [p for p in order if p not in set(pages[:1000])]
            _, other, noise = measure(others)
            print(f"  only the 4,000 pages in no canary: {other:.2f} x (what the canaries cost every other page; itself: {noise:.2f} x)")
        finally:
            for apache in servers.values():
                apache.stop()

        # One step's analysis over 1,000,000 imported requests of a 100-page canary.
        adb = f"{work}/analysis.sqlite"
        quiet([BIN, "crawl", "--db", adb, "--docroot", docroot])
        quiet([BIN, "canary", "start", "big", *pages[:100], "--db", adb])
        quiet([BIN, "canary", "weight", "big", "50", "--db", adb])
        log = f"{work}/access.log"
        rng = random.Random(3)
        start = int(time.time()) + 2
        with open(log, "w") as f:
            for i in range(1_000_000):
                stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(start + i // 100))
                swift = i % 2 == 0
                status = 500 if rng.random() < 0.002 else 200
                f.write(f'10.0.{i % 250}.{i % 199} - - [{stamp}] "GET {pages[i % 100]} HTTP/1.1" {status} 512 '
                        f'{rng.randint(800, 4000) if swift else rng.randint(300, 3000)} {"proxy-server" if swift else "application/x-httpd-php"}\n')
        seconds, result = run_measured([BIN, "logs", "import", "--db", adb, "--format", '%h %l %u %t "%r" %>s %b %D %R', log])
        if result.returncode != 0:
            print(result.stdout.decode(), result.stderr.decode())
        print(f"canary analysis: import of 1,000,000 lines (100 canary pages, both sides): {seconds:.2f} s")
        times = []
        for _ in range(5):
            seconds, result = run_measured([BIN, "canary", "show", "big", "--db", adb])
            times.append(seconds)
        shown = result.stdout.decode()
        line = next((text for text in shown.splitlines() if text.startswith("at 50 %")), shown[:300])
        print(f"  one step's analysis over the window (cutover canary show, whole command, median of 5): {sorted(times)[2]:.3f} s (goal <= 1 s)")
        print(f"  {line}")
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    if which in ("probe", "all"):
        bench_probe()
    if which in ("export", "all"):
        bench_export()
    if which in ("fleet", "all"):
        bench_fleet(int(sys.argv[2]) if which == "fleet" and len(sys.argv) > 2 else 50000)
    if which in ("parity", "all"):
        bench_parity()
    if which in ("canaries", "all"):
        bench_canaries()
