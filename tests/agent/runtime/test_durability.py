"""Kill a real `facetory` build with SIGKILL at random moments; the finished dataset must be
the one an uninterrupted build makes: same accepted items, same bytes, nothing counted twice,
no orphan files. The number of worker processes never changes the dataset: the reference is
built in one process, the others with two workers, and a resume may use another number."""

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
from tools.stores.manifest import Manifest


def eyewear_spec(name: str, *, quota: int, batch_size: int, seed: int) -> str:
    """Two eyewear classes of `quota` with balanced genders, a fault rate and a smile
    augmentation: small, yet every node has work (rejections, variants, several batches)."""
    return f"""\
name: {name}
classes:
  - {{name: none, quota: {quota}, attributes: {{eyewear: none}}}}
  - {{name: glasses, quota: {quota}, attributes: {{eyewear: glasses}}}}
factors:
  - {{name: gender, balanced: true, levels: [{{name: female}}, {{name: male}}]}}
generation: {{fault_rate: 0.25}}
augmentations: [{{name: smile, attributes: {{expression: smile}}, fraction: 0.25}}]
budget: {{batch_size: {batch_size}}}
image_size: 128
seed: {seed}
"""


SPEC = eyewear_spec("durability", quota=14, batch_size=3, seed=11)
FACETORY = [sys.executable, "-m", "agent"]


def build(spec: Path, out: Path, workers: int) -> subprocess.Popen:
    return subprocess.Popen(
        [*FACETORY, "build", str(spec), "--out", str(out), "--yes", "--no-train", "--offline",
         "--workers", str(workers)],
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


def wait_for_images(root: Path, count: int, proc: subprocess.Popen) -> bool:
    """Wait until `root` holds `count` drawn images; False if the build ended first."""
    while proc.poll() is None:
        if len(list((root / "images").rglob("*.png"))) >= count:
            return proc.poll() is None
        time.sleep(0.02)
    return False


def children(pid: int) -> set[int]:
    """The processes `pid` started that are still there (its worker pool, say)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def running(pids: set[int]) -> set[int]:
    """Those of `pids` not yet ended (a zombie has ended), after giving them 30 s."""
    alive = pids
    for _ in range(60):
        alive = set()
        for pid in pids:
            try:
                state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if state[0] != "Z":
                alive.add(pid)
        if not alive:
            break
        time.sleep(0.5)
    return alive


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_repeats_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    reference = build(spec, tmp_path / "reference", workers=1)
    assert reference.wait(timeout=300) == 0, reference.stderr.read()
    parallel = build(spec, tmp_path / "parallel", workers=2)
    assert parallel.wait(timeout=300) == 0, parallel.stderr.read()

    # Kill when the build has drawn a random share of the reference's images, not after a fixed
    # number of seconds: a faster machine (or a faster build) must not finish before the kill.
    drawn = len(list((tmp_path / "reference" / "images").rglob("*.png")))
    killed_dir = tmp_path / "killed"
    rng = random.Random(20261121)
    targets = sorted(rng.sample(range(1, drawn), 3)) + [drawn]
    kills = 0
    orphans: set[int] = set()
    for workers, target in zip((2, 1, 2, 2), targets, strict=True):
        proc = build(spec, killed_dir, workers)
        if wait_for_images(killed_dir, target, proc):
            time.sleep(rng.uniform(0.0, 0.3))
            orphans |= children(proc.pid)
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
    assert kills >= 3, "the build finished before it could be killed"
    final = build(spec, killed_dir, workers=2)
    assert final.wait(timeout=300) == 0, final.stderr.read()

    assert_clean(tmp_path / "reference")
    assert_clean(tmp_path / "parallel")
    assert_clean(killed_dir)
    expected = fingerprint(tmp_path / "reference")
    assert len([k for k in expected if "/" not in k]) == 28 + 8  # 8 augmentation variants
    assert fingerprint(tmp_path / "parallel") == expected
    assert fingerprint(killed_dir) == expected
    assert orphans, "no worker process was running when the build was killed"
    assert not running(orphans), "a killed build left worker processes behind"
