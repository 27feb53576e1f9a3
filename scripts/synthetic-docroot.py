#!/usr/bin/env python3
"""Writes a synthetic docroot of N small files for benchmarks and the dashboard's 100k test:
50 top folders x 40 subfolders, 40 % .php pages, the rest .html.

    scripts/synthetic-docroot.py DIR N
"""
import os
import sys

root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    folder = os.path.join(root, f"s{i % 50}", f"d{(i // 50) % 40}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"f{i}" + (".php" if i % 5 < 2 else ".html")), "w") as file:
        file.write("x")
