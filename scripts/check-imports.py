#!/usr/bin/env python3
"""Check that every target in Package.swift lists exactly the package modules its files import.

A target must list each module of the package (or product of a dependency) that one of its
files imports, and list nothing that none of its files imports; a test target may also list an
executable target it launches without importing it (so that it is built first). SwiftPM's own
`--explicit-target-dependency-import-check` accepts a module reached through another
dependency, so it would not catch a missing direct one. Exit status 1 with every problem
listed, 0 if there is none (docs/testing.md).

Usage: python3 scripts/check-imports.py   (from anywhere in the repository)
"""
import json
import os
import re
import subprocess
import sys

IMPORT = re.compile(r"^\s*(?:@\w+\s+)*(?:(?:public|package|internal|private|fileprivate)\s+)?import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    manifest = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True,
                                         capture_output=True, text=True).stdout)
    targets = manifest["targets"]
    kinds = {t["name"]: t["type"] for t in targets}
    products = set()
    for t in targets:
        for d in t["dependencies"]:
            if "product" in d:
                products.add(d["product"][0])
    modules = set(kinds) | products
    problems = []
    for t in targets:
        name = t["name"]
        if t["type"] in ("system", "plugin", "binary", "macro"):
            continue
        path = t.get("path") or os.path.join("Tests" if t["type"] == "test" else "Sources", name)
        excluded = [os.path.join(path, e) for e in t.get("exclude", [])]
        imported = {}  # module → first "file:line" importing it
        for folder, dirs, files in os.walk(os.path.join(root, path)):
            relative_folder = os.path.relpath(folder, root)
            if any(relative_folder == e or relative_folder.startswith(e + os.sep) for e in excluded):
                dirs[:] = []
                continue
            for file in sorted(files):
                if not file.endswith(".swift"):
                    continue
                relative = os.path.join(relative_folder, file)
                with open(os.path.join(root, relative), encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        m = IMPORT.match(line)
                        if m and m.group(1) in modules:
                            imported.setdefault(m.group(1), f"{relative}:{number}")
        declared = set()
        for d in t["dependencies"]:
            for key in ("byName", "target", "product"):
                if key in d:
                    declared.add(d[key][0])
        for module in sorted(set(imported) - declared):
            problems.append(f"target {name}: {imported[module]} imports {module}, which is not in its dependencies in Package.swift")
        for module in sorted(declared - set(imported)):
            if t["type"] == "test" and kinds.get(module) == "executable":
                continue  # launched by the tests, not imported
            problems.append(f"target {name}: Package.swift lists {module} in its dependencies, but none of its files ({path}) imports it")
    if problems:
        print(f"check-imports: {len(problems)} problem{'s' if len(problems) != 1 else ''}:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print(f"check-imports: the dependencies of all {len(targets)} targets match their imports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
