"""Dependencies: every third-party module the runtime imports is declared, and the lock files pin the declared
versions with every transitive package (what `chalice package`, `make install` and CI install)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;#]+)")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text("utf-8").splitlines():
        m = PIN.match(line.strip())
        if m:
            out[norm(m.group(1))] = m.group(2)
    return out


def test_runtime_lock_pins_the_declared_versions_and_their_dependencies():
    declared, locked = pins(ROOT / "requirements.in"), pins(ROOT / "requirements.txt")
    assert declared and len(locked) > len(declared)
    for name, version in declared.items():
        assert locked.get(name) == version, f"{name}: requirements.in {version}, lock {locked.get(name)} (make lock)"
    for line in (ROOT / "requirements.txt").read_text("utf-8").splitlines():
        assert not line.strip() or line.lstrip().startswith("#") or PIN.match(line.strip()), line


def test_dev_lock_keeps_the_runtime_versions():
    runtime, dev = pins(ROOT / "requirements.txt"), pins(ROOT / "requirements-dev.txt")
    for name, version in runtime.items():
        assert dev.get(name) == version, f"{name}: runtime {version}, dev {dev.get(name)} (make lock)"
    for name, version in pins(ROOT / "requirements-dev.in").items():
        assert dev.get(name) == version, name


def test_every_third_party_import_of_the_runtime_is_declared():
    dists = packages_distributions()
    declared = set(pins(ROOT / "requirements.in"))
    stdlib = set(sys.stdlib_module_names)
    missing = set()
    for path in [*(ROOT / "chalicelib").rglob("*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in stdlib or top in ("chalicelib", "app", "chalice"):
                    continue  # chalice is provided by the deployment package itself
                owners = {norm(d) for d in dists.get(top, [top])}
                if not owners & declared:
                    missing.add(f"{top} ({path.relative_to(ROOT)})")
    assert missing == set(), f"imported but not declared in requirements.in: {sorted(missing)}"
