"""The same build on the local executor and on Ray, and what starting Ray costs.

    .venv/bin/python bench/bench_ray.py [--n 60] [--repeat 1]

Ray's start-up: `tools.execution.ray_actors.connect()` in a fresh process (import, then `ray.init`
of a Ray on this machine with one CPU per core), then the first call on two critic actors
(each loading the critic's models once). Then a quickstart-like spec (`bench_parallel.py`'s,
without training) built through the real command, alternately with `--workers N` (the local
process pool, N = this machine's cores) and with `--executor ray` (a Ray started by the
build, N critic actors): wall time, accepted images/s, the median of each, and whether the
datasets are byte-identical. Needs `pip install 'facetory[ray]'`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_parallel import digest, spec_text  # noqa: E402

from tools.contracts import Status  # noqa: E402
from tools.stores.manifest import Manifest  # noqa: E402

STARTUP = """
import time
t0 = time.perf_counter()
from tools.execution.ray_actors import RayPool, connect
connect()
t1 = time.perf_counter()
from tools.execution.image_tasks import start_worker
from tools.critic import CriticConfig
pool = RayPool(2, initializer=start_worker, initargs=(CriticConfig(),))
pool.map(abs, [0, 0], what="starting")
t2 = time.perf_counter()
print(f"{t1 - t0:.2f} {t2 - t1:.2f}")
"""


def startup() -> tuple[float, float]:
    """(seconds to import Ray and start it here, seconds to a first answer from 2 actors)."""
    done = subprocess.run([sys.executable, "-c", STARTUP], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    ray_s, actors_s = done.stdout.split()
    return float(ray_s), float(actors_s)


def build(spec: Path, out: Path, executor: str, workers: int) -> dict:
    command = [sys.executable, "-m", "agent", "build", str(spec), "--out", str(out), "--yes",
               "--no-train", "--offline", "--executor", executor, "--workers", str(workers)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"build failed ({executor}): {done.stderr.strip()[-500:]}")
    accepted = len(Manifest(out / "manifest.sqlite").records(Status.accepted))
    return {"wall": wall, "accepted": accepted, "digest": digest(out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=60, help="images planned (three classes)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"{cores} cores; {args.n} images planned; {args.repeat} run(s) of each")

    ray_s, actors_s = startup()
    print(f"Ray start-up: {ray_s:.1f} s to import and start a Ray here, then {actors_s:.1f} s "
          "to a first answer from 2 critic actors (their models loaded)")

    runs: dict[str, list[dict]] = {"local": [], "ray": []}
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.yaml"
        spec.write_text(spec_text(args.n))
        for r in range(args.repeat):
            for executor in runs:
                runs[executor].append(build(spec, Path(tmp) / f"{executor}{r}", executor, cores))
    walls = {}
    for executor, results in runs.items():
        walls[executor] = statistics.median(r["wall"] for r in results)
        accepted = results[0]["accepted"]
        print(f"{executor:>5} ({cores} workers): {accepted} accepted in {walls[executor]:.1f} s "
              f"wall = {accepted / walls[executor]:.2f} accepted images/s")
    print(f"ray / local wall time: {walls['ray'] / walls['local']:.2f}x")
    same = len({r["digest"] for rs in runs.values() for r in rs}) == 1
    print(f"datasets byte-identical: {same}")


if __name__ == "__main__":
    main()
