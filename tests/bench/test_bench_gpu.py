"""bench/bench_gpu.py, run the way the GPU machine runs it but in its CPU smoke mode (`--tiny`),
so the script cannot rot between the rare runs on a GPU (CI never has one)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "bench_gpu.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_the_smoke_run_measures_every_setting_and_the_gpu_share_of_a_real_build(
    tmp_path: Path,
) -> None:
    done = run("--tiny", "--work", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout

    rates = dict(re.findall(r"^  (\S.*?)\s{2,}batch\s+\d+\s.*?([\d.]+) images/s", out, re.M))
    assert set(rates) == {"diffusers defaults: fp32, batch 1",
                          "fp32, batch 1, pre-torch-2 attention",
                          "facetory settings", "facetory settings (its defaults)"}
    assert all(float(rate) > 0 for rate in rates.values())
    # diffusers' default attention is already SDPA; the PNG writing is inside the timing
    assert re.search(r"\[AttnProcessor2_0; PNG writing \d+%\]", out)
    assert re.search(r"best: .*: +[\d.]+x$", out, re.M)

    # the build ran through the command line; the share of its loop spent inside the pipeline
    # is a share (the next batch is drawn while this one is judged: the calls overlap stages)
    assert "python -m agent build" in out and "--no-train --offline" in out
    shares = re.findall(r"^  (whole loop|after the first batch).*?: [\d.]+ s, GPU busy ([\d.]+)% "
                        r"\(goal >= 90%\); the stages \(overlapping the pipeline\): .*critique",
                        out, re.M)
    # drawing ahead and one batch at a time (the baseline); each: the whole loop, and the loop
    # after its first batch when a pipeline call ended after it (a loaded machine can draw
    # every batch before the first is recorded: then the bench says so instead)
    none_after = out.count("after the first batch: no pipeline call ended after it")
    assert [label for label, _ in shares].count("whole loop") == 2
    assert [label for label, _ in shares].count("after the first batch") + none_after == 2
    assert all(0 < float(busy) <= 100 for _, busy in shares)
    assert "GPU busy during a build, draw-ahead" in out
    assert "GPU busy during a build, one batch at a time" in out
    assert len(re.findall(r"pipeline: 2 calls, 8 images", out)) == 2
    assert list(tmp_path.iterdir()) == []  # the scratch directory is gone


def test_without_a_gpu_the_full_run_says_so_and_measures_nothing() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is here: the full run would start")
    done = run()
    assert done.returncode == 0
    assert done.stdout.startswith("no CUDA GPU visible: nothing to measure")
