"""`make reset`: wipe the local platform's data folder (DATA_DIR, default .local/data). Asks nothing; says what it
removed. Refuses while a platform is running on that folder."""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    raw = os.environ.get("DATA_DIR", str(ROOT / ".local" / "data"))
    data_dir = Path(raw) if Path(raw).is_absolute() else ROOT / raw
    if not data_dir.exists():
        print(f"nothing to remove: {data_dir} does not exist")
        return 0
    lock = data_dir / ".lock"
    if lock.exists():
        with open(lock, "w") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                print(f"{data_dir} is in use by a running platform: stop it first (Ctrl-C)", file=sys.stderr)
                return 1
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    shutil.rmtree(data_dir)
    print(f"removed {data_dir}: {len(files)} files, {size / 1_048_576:.1f} MiB (records, uploads, queues, accounts)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
