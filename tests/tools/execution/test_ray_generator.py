"""Generator actors on a Ray started here on the CPU (`local_ray`): they draw each item as one
process draws it, in the items' order, written where the local generator writes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.config import DiffusersConfig
from tools.contracts import PlanItem
from tools.execution.ray_generator import RayGenerator
from tools.generate import get_generator


def test_generator_actors_draw_each_item_as_one_process_draws_it_in_item_order(
    local_ray: None, tiny_sd: Path, tmp_path: Path
) -> None:
    config = DiffusersConfig(model=str(tiny_sd), steps=2, device="cpu", batch_size=2)
    items = [PlanItem(id=f"i{n}", **{"class": "face"}, seed=n, faces=1, attributes={},
                      prompt=f"a face {n}") for n in range(5)]
    here = get_generator(config, image_size=64).generate(items, tmp_path / "here", attempt=1)
    # num_gpus=0: CI has no GPU; on a cluster one actor per GPU takes num_gpus=1
    drawn = RayGenerator(config, image_size=64, actors=2, num_gpus=0)
    try:
        there = drawn.generate(items, tmp_path / "there", attempt=1)
    finally:
        drawn.close()
    assert [Path(i.path).name for i in there] == [Path(i.path).name for i in here]
    assert all(Path(i.path).parent == tmp_path / "there" for i in there)
    # the same picture up to float rounding (another process may sum in another order),
    # and far from any other item's: each item was drawn from its own seed and prompt
    gap = [[_distance(a.path, b.path) for b in there] for a in here]
    for n, row in enumerate(gap):
        assert row[n] < 1.0 < min(d for m, d in enumerate(row) if m != n), gap


def _distance(a: str, b: str) -> float:
    """Mean absolute difference of two images' pixels (0-255)."""
    from PIL import Image

    pixels = [np.asarray(Image.open(path), dtype=np.float32) for path in (a, b)]
    return float(np.abs(pixels[0] - pixels[1]).mean())
