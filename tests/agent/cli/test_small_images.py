"""Small images through the CLI: a 64 px build is judged as a 256 px one would be, and a size
the critic cannot judge is refused before anything runs."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

FACETORY = [sys.executable, "-m", "agent"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}


def facetory(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*FACETORY, *args], capture_output=True, text=True, timeout=600,
                          env=ENV)


def test_a_build_of_64x64_images_accepts_most_clean_renders_boxed_in_their_own_pixels(
        tmp_path: Path) -> None:
    out = tmp_path / "small"
    built = facetory("build", "24 faces at 64x64 pixels, an even mix of men and women",
                     "--out", str(out), "--yes", "--no-train", "--offline")
    assert built.returncode == 0, built.stderr[-2000:]
    total = json.loads(facetory("status", str(out), "--json").stdout)["total"]
    assert total["accepted"] == 24 and total["attempts"] <= 30, total
    with sqlite3.connect(out / "manifest.sqlite") as db:
        records = [json.loads(r) for (r,) in db.execute(
            "select record from images where status = 'accepted'")]
    boxes = [b for r in records for b in r["boxes"]]
    assert len(boxes) >= 24
    assert all(-2 <= v <= 66 for b in boxes for v in b)  # the image's pixels, not a copy's


def test_a_size_the_critic_cannot_judge_is_refused_in_one_line(tmp_path: Path) -> None:
    refused = facetory("plan", "24 faces at 40x40 pixels", "--out", str(tmp_path / "tiny"),
                       "--offline")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "error: image_size: 40 px is too small: the critic cannot judge faces in images under "
        "48 px (too few pixels for landmarks); ask for 48 px or more"]
    assert not (tmp_path / "tiny").exists()
