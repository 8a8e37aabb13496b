"""Unit tests: pure Python, no network, no AWS (not even moto).

Make the project root (for `chalicelib`) and this folder (for `fakes`) importable whatever the working directory
and pytest import mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parents[1]
for _p in (str(_ROOT), str(_HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)
