"""PNG provenance: every written image says it is synthetic and where it came from."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tools.errors import FacetoryError
from tools.generate.provenance import (
    is_synthetic,
    prompt_hash,
    provenance,
    read_provenance,
    write_png,
)


def test_round_trip_of_fields_and_pixels(tmp_path: Path) -> None:
    pixels = np.random.default_rng(0).integers(0, 255, (16, 24, 3), dtype=np.uint8)
    fields = provenance(generator="procedural", model="m-1", seed=42, prompt="a child smiling",
                        augmentation="classical:flip")
    path = tmp_path / "img.png"
    write_png(path, pixels, fields)

    meta = read_provenance(path)
    assert meta["generator"] == "procedural"
    assert meta["model"] == "m-1"
    assert meta["seed"] == "42"
    assert meta["synthetic"] == "true"
    assert meta["augmentation"] == "classical:flip"
    assert meta["prompt_sha256"] == hashlib.sha256(b"a child smiling").hexdigest()
    assert "trainedAlgorithmicMedia" in meta["digital_source_type"]
    assert is_synthetic(path)
    assert np.array_equal(np.asarray(Image.open(path)), pixels)  # PNG is lossless
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img.png"]  # no temp files left


def test_prompt_is_hashed_not_stored(tmp_path: Path) -> None:
    write_png(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8),
              provenance(generator="g", model="m", seed=1, prompt="secret words"))
    raw = (tmp_path / "a.png").read_bytes()
    assert b"secret words" not in raw
    assert prompt_hash("secret words").encode() in raw


def test_images_without_provenance_are_not_synthetic(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    assert read_provenance(tmp_path / "plain.png") == {}
    assert not is_synthetic(tmp_path / "plain.png")


def test_unreadable_file_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(FacetoryError, match="cannot read image"):
        read_provenance(tmp_path / "bad.png")
