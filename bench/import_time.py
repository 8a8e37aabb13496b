"""Cold-import cost of the Lambda entry module against `import boto3` (issue 2 budget: at most 2.5x).

    .venv/bin/python bench/import_time.py [runs]

Each sample is a fresh interpreter (`python -c ...`), as a Lambda cold start is; the interpreter's own start-up
(`python -c pass`) is subtracted. Reports medians in milliseconds and the ratio app / boto3.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sample(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    sample("import app", 2)  # warm the file cache and __pycache__ once
    base = sample("pass", runs)
    boto3 = sample("import boto3", runs) - base
    app = sample("import app", runs) - base
    app_and_boto3 = sample("import app, boto3", runs) - base
    print(f"runs per figure: {runs} (median), interpreter start-up {base:.0f} ms subtracted")
    print(f"import boto3         {boto3:7.1f} ms")
    print(f"import app           {app:7.1f} ms   ratio app/boto3 = {app / boto3:.2f} (budget 2.50)")
    print(f"import app, boto3    {app_and_boto3:7.1f} ms   ratio = {app_and_boto3 / boto3:.2f}")
    return 0 if app / boto3 <= 2.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
