#!/usr/bin/env python3
"""Checks the dashboard's ES modules (Public/js): every relative import names a file that exists,
and no module imports itself back through others (views get the app context as an argument)."""

import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent / "Public" / "js"
imports = {}
problems = []
for module in sorted(root.glob("*.js")):
    targets = re.findall(r"""^\s*import\s[^;]*?from\s+['"](\./[^'"]+)['"]""", module.read_text(), flags=re.MULTILINE)
    imports[module.name] = [pathlib.PurePosixPath(target).name for target in targets]
    for target in imports[module.name]:
        if not (root / target).exists():
            problems.append(f"{module.name} imports {target}, which does not exist")


def cycle_from(start, path):
    for target in imports.get(path[-1], []):
        if target == start:
            return [*path, target]
        if target not in path:
            found = cycle_from(start, [*path, target])
            if found:
                return found
    return None


for name in imports:
    cycle = cycle_from(name, [name])
    if cycle:
        problems.append("import cycle: " + " -> ".join(cycle))
        break
for problem in problems:
    print(f"check-js-modules: {problem}", file=sys.stderr)
print(f"check-js-modules: {len(imports)} modules, {sum(map(len, imports.values()))} imports, {'no cycles' if not problems else 'FAILED'}")
sys.exit(1 if problems else 0)
