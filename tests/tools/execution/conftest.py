"""Fixtures shared by the executor tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.contracts import PlanItem
from tools.generate.procedural import ProceduralGenerator


@pytest.fixture
def drawn(tmp_path: Path) -> list[tuple[Path, PlanItem]]:
    """Four procedural faces (every other one with glasses) drawn into `tmp_path`, each with
    its plan item: what an executor must judge exactly as this process does."""
    items = [
        PlanItem(id=f"i{n}", **{"class": "face"}, seed=n, faces=1,
                 attributes={"eyewear": "glasses" if n % 2 else "none"})
        for n in range(4)
    ]
    images = ProceduralGenerator(image_size=128).generate(items, tmp_path)
    return [(Path(image.path), item) for image, item in zip(images, items, strict=True)]
