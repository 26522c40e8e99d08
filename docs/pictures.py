"""Draws the README's picture of what the embedded renderer makes: `python docs/pictures.py`.

It is the benchmark's contact sheet (`bench/bench_render.py`: varied single faces, groups, one
person across the six age groups, injected faults) at a size a README shows, written to
docs/samples.jpg.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_render import contact_sheet  # noqa: E402

if __name__ == "__main__":
    contact_sheet(ROOT / "docs" / "samples.jpg", size=128)
