#!/usr/bin/env python3
"""Writes a synthetic docroot of N small files for benchmarks and the dashboard's 100k test:
50 top folders x 40 subfolders, 40 % .php pages, the rest .html.

    scripts/synthetic-docroot.py DIR N            one-byte files
    scripts/synthetic-docroot.py --varied DIR N   the crawl benchmark's tree: also .css and .png,
                                                  4 % in deeper folders, an index.php in about
                                                  one folder in 20, files of 64-575 bytes
"""
import os
import sys

args = sys.argv[1:]
varied = args[:1] == ["--varied"]
if varied:
    args = args[1:]
if len(args) != 2:
    sys.exit(__doc__)
root, n = args[0], int(args[1])
for i in range(n):
    folder = os.path.join(root, f"s{i % 50}", f"d{(i // 50) % 40}")
    if not varied:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"f{i}" + (".php" if i % 5 < 2 else ".html")), "w") as file:
            file.write("x")
        continue
    if i % 1000 < 40:
        folder = os.path.join(folder, f"deep{i % 7}", "x")
    os.makedirs(folder, exist_ok=True)
    ext = ".php" if i % 5 < 2 else (".html", ".css", ".png")[i % 3]
    name = "index.php" if i % 997 == 0 else f"f{i}{ext}"
    with open(os.path.join(folder, name), "w") as file:
        file.write(f"<?php echo {i}; ?>" if ext == ".php" else "x" * (64 + i % 512))
