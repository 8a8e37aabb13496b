"""The layering contract runs in the tests, plus the rules import-linter cannot express."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_FORBIDDEN = ("chalice.cli", "chalice.config", "chalice.test", "chalice.local", "chalice.deploy", "moto")


def test_import_linter_contracts_are_kept():
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_runtime_code_does_not_import_what_the_lambda_package_lacks():
    """chalice.cli/config/test/local are not in the deployment package; importing them fails at invoke."""
    files = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]
    offenders = [
        f"{f.relative_to(ROOT)}: {name}" for f in files for name in _imports(f) if name.startswith(RUNTIME_FORBIDDEN)
    ]
    assert offenders == []


def test_every_package_has_an_init_so_blueprints_deploy():
    for d in (ROOT / "chalicelib").rglob("*"):
        if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py")):
            assert (d / "__init__.py").exists(), d


def test_importing_app_loads_no_heavy_libraries():
    code = (
        "import sys, app\n"
        "heavy = {'pandas','openpyxl','reportlab','polars','numpy','python_calamine','fitz','weasyprint','xlsxwriter',"
        "'boto3','botocore','moto','chalice.local','chalice.cli'}\n"
        "print(sorted(m for m in sys.modules if m in heavy or m.split('.')[0] in heavy - {'chalice'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_runtime_code_logs_through_the_structured_logger_only():
    """No stdlib loggers in chalicelib/: Powertools never configures them, so their lines would lack the JSON shape
    and the correlation id (chalicelib/observability.py)."""
    import ast

    root = Path(__file__).resolve().parents[2] / "chalicelib"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import) and any(a.name == "logging" for a in node.names):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []
