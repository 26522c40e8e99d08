"""Kill a real `facetory` build with SIGKILL at random moments; the finished dataset must be
the one an uninterrupted build makes: same accepted items, same bytes, nothing counted twice,
no orphan files."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.contracts import Status
from tools.manifest import Manifest

SPEC = """\
name: durability
classes:
  - {name: none, quota: 14, attributes: {eyewear: none}}
  - {name: glasses, quota: 14, attributes: {eyewear: glasses}}
factors:
  - {name: gender, balanced: true, levels: [{name: female}, {name: male}]}
generation: {fault_rate: 0.25}
augmentations: [{name: smile, attributes: {expression: smile}, fraction: 0.25}]
budget: {batch_size: 3}
image_size: 128
seed: 11
"""
FACETORY = [sys.executable, "-m", "agent"]


def build(spec: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*FACETORY, "build", str(spec), "--out", str(out), "--yes", "--no-train", "--offline"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def fingerprint(root: Path) -> dict[str, str]:
    """item id -> sha256 of the accepted image, plus every exported file's hash."""
    manifest = Manifest(root / "manifest.sqlite")
    accepted = manifest.records(Status.accepted)
    items = [r.item_id for r in accepted]
    assert len(items) == len(set(items)), "an item was accepted twice"
    prints = {r.item_id: hashlib.sha256((root / r.path).read_bytes()).hexdigest()
              for r in accepted}
    for path in sorted((root / "dataset").rglob("*")):
        if path.is_file() and path.suffix in {".png", ".txt", ".jsonl"}:
            prints[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return prints


def assert_clean(root: Path) -> None:
    manifest = Manifest(root / "manifest.sqlite")
    recorded = {(root / p).resolve() for p in manifest.paths()}
    on_disk = {p.resolve() for p in (root / "images").rglob("*") if p.is_file()}
    assert on_disk == recorded, "orphan or missing image files"
    assert not list(root.rglob("*.tmp")), "half-written temp files left behind"


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_repeats_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    reference = build(spec, tmp_path / "reference")
    assert reference.wait(timeout=300) == 0, reference.stderr.read()

    killed_dir = tmp_path / "killed"
    rng = random.Random(20261121)
    kills = 0
    for _ in range(4):
        proc = build(spec, killed_dir)
        time.sleep(rng.uniform(2.0, 5.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
    assert kills >= 2, "the build finished before it could be killed: make it longer"
    final = build(spec, killed_dir)
    assert final.wait(timeout=300) == 0, final.stderr.read()

    assert_clean(tmp_path / "reference")
    assert_clean(killed_dir)
    expected = fingerprint(tmp_path / "reference")
    assert len([k for k in expected if "/" not in k]) == 28 + 8  # 8 augmentation variants
    assert fingerprint(killed_dir) == expected
