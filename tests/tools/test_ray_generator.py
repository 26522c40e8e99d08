"""Generator actors on a Ray started here on the CPU (`local_ray`): they draw the bytes one
process draws, in the items' order, written where the local generator writes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.config import DiffusersConfig
from tools.contracts import PlanItem
from tools.generate import get_generator
from tools.ray_generator import RayGenerator


def test_generator_actors_draw_the_bytes_one_process_draws(
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
    for a, b in zip(here, there, strict=True):
        assert Path(b.path).parent == tmp_path / "there"
        np.testing.assert_array_equal(_pixels(a.path), _pixels(b.path))


def _pixels(path: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path))
