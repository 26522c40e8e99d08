"""Broken and unusual files get a verdict with a clear reason; nothing raises out of judge."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.tools.face_photos import portrait, save
from tools.contracts import PlanItem
from tools.critic import Critic, CriticConfig

ITEM = PlanItem(id="bad", **{"class": "face"}, seed=3, attributes={"eyewear": "none"})


@pytest.fixture(scope="module")
def critic() -> Critic:
    return Critic(CriticConfig())


def png_bytes(rgb: np.ndarray, mode: str | None = None) -> bytes:
    image = Image.fromarray(rgb)
    if mode:
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def rejected(critic: Critic, path: Path, reason: str) -> None:
    verdict = critic.judge(path, ITEM)
    assert not verdict.passed
    assert verdict.reasons == [reason]
    assert verdict.score == 0.0
    assert verdict.checks[0].detail  # says what was wrong


def test_missing_file(critic, tmp_path):
    rejected(critic, tmp_path / "nowhere.png", "unreadable")


def test_zero_bytes(critic, tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    rejected(critic, path, "unreadable")


def test_not_an_image(critic, tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture")
    rejected(critic, path, "unreadable")


def test_not_an_image_is_unreadable_also_once_ultralytics_is_imported(critic, tmp_path):
    """ultralytics patches PIL's open process-wide to install a HEIF plugin on the first file
    PIL cannot identify; a build imports it to train, and the critic must still say why."""
    import ultralytics  # noqa: F401  (the import is the patch)

    path = tmp_path / "notes.png"
    path.write_text("this is not a picture")
    rejected(critic, path, "unreadable")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated(critic, tmp_path, fmt):
    buffer = io.BytesIO()
    Image.fromarray(portrait()).save(buffer, format=fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    rejected(critic, path, "unreadable")


def test_tiny(critic, tmp_path):
    rejected(critic, save(tmp_path / "tiny.png", np.zeros((10, 12, 3), np.uint8)),
             "too_small_image")


def test_too_many_pixels(tmp_path):
    strict = Critic(CriticConfig(max_pixels=10_000))
    rejected(strict, save(tmp_path / "big.png", portrait()), "too_large_image")


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16", "CMYK"])
def test_other_colour_modes_are_judged(critic, tmp_path, mode):
    path = tmp_path / f"mode.{'jpg' if mode == 'CMYK' else 'png'}"
    image = Image.fromarray(portrait())
    if mode == "I;16":
        gray = np.asarray(image.convert("L"), dtype=np.uint16) * 257
        image = Image.fromarray(gray)  # 16-bit grey
    else:
        image = image.convert(mode)
    image.save(path)
    verdict = critic.judge(path, ITEM)
    assert "unreadable" not in verdict.reasons
    assert len(verdict.faces) == 1, (mode, verdict.reasons)


def test_transparent_background_is_flattened(critic, tmp_path):
    rgba = np.dstack([portrait(), np.full(portrait().shape[:2], 255, np.uint8)])
    rgba[:40, :, 3] = 0  # a transparent band at the top
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, mode="RGBA").save(path)
    assert len(critic.judge(path, ITEM).faces) == 1


def test_huge_image_is_judged_downscaled(critic, tmp_path):
    rgb = np.asarray(Image.fromarray(portrait()).resize((2560, 3000)))
    path = tmp_path / "huge.jpg"
    Image.fromarray(rgb).save(path, quality=90)
    verdict = critic.judge(path, ITEM)
    assert len(verdict.faces) == 1
    x0, y0, x1, y1 = verdict.faces[0].box
    assert x1 - x0 > 800  # reported in the file's own pixels


def test_judge_many_survives_a_bad_file_among_good_ones(critic, tmp_path):
    good = save(tmp_path / "good.png", portrait())
    bad = tmp_path / "bad.png"
    bad.write_bytes(png_bytes(portrait())[:100])
    verdicts = critic.judge_many([(good, ITEM), (bad, ITEM), (good, ITEM)])
    assert [v.reasons == ["unreadable"] for v in verdicts] == [False, True, False]
