"""The plain-language reader: milliseconds per request and how many it reads as asked.

Goal: under 50 ms per request. Baseline, measured in the same run: the offline reader as it
was before issue 12 (agent/language/parse.py at commit 4dabf15, loaded from git history), on the
same
requests. The requests are the test corpus (tests/agent/language/reader_corpus.yaml) or any file of
the same format.

    .venv/bin/python bench/bench_reader.py [FILE.yaml] [--repeats 3] [--no-baseline]

Prints the figures and writes them to bench/out/bench_reader.json.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.language.candidates import read_offline  # noqa: E402
from agent.language.spec import SpecError  # noqa: E402
from tests.agent.language.test_reader_corpus import CORPUS, fact_problems, load  # noqa: E402
from tools.atomic import write_text  # noqa: E402

OUT = ROOT / "bench" / "out"
BASELINE_COMMIT = "4dabf15"


def old_reader():
    """The reader before issue 12, from git history (None outside a clone that has it)."""
    try:
        text = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{BASELINE_COMMIT}:agent/language/parse.py"],
            capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "parse_before_issue_12.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("parse_before_issue_12", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    except Exception:  # the old module no longer imports against today's code
        return None
    return module.parse_offline


def measure(read, requests: list[tuple[str, dict]], repeats: int) -> dict[str, float]:
    """Median ms per request over `repeats` passes, and the share read as asked."""
    for text, _ in requests[:20]:  # warm up: compile the patterns outside the timing
        with contextlib.suppress(Exception):
            read(text)
    times: list[float] = []
    right = 0
    for r in range(repeats):
        for text, family in requests:
            t0 = time.perf_counter()
            try:
                spec = read(text)
            except SpecError:
                spec = None
            except Exception:  # a crash of the old reader counts as a misreading
                spec = None
            times.append((time.perf_counter() - t0) * 1000)
            if r == 0:
                must_fail = "error" in family or family.get("refused")
                if spec is None:
                    right += bool(must_fail) and not family.get("refused")
                else:
                    right += not must_fail and not fact_problems(spec, family["expect"])
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
        "max_ms": round(times[-1], 2),
        "read_as_asked": right,
        "requests": len(requests),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", default=str(CORPUS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args()
    families = load(Path(args.file))
    requests = [(t, f) for f in families for t in (f.get("requests") or [f.get("request")])]
    # safety refusals are parse_spec's, not the reader's: left out of both sides
    requests = [(t, f) for t, f in requests if not f.get("refused")]
    results = {"reader": measure(read_offline, requests, args.repeats)}
    old = None if args.no_baseline else old_reader()
    if old is not None:
        results[f"baseline ({BASELINE_COMMIT})"] = measure(old, requests, args.repeats)
    for name, r in results.items():
        print(f"{name:<22} {r['median_ms']:6.2f} ms median, p95 {r['p95_ms']:.2f} ms, max "
              f"{r['max_ms']:.2f} ms; {r['read_as_asked']}/{r['requests']} read as asked")
    print("goal: under 50 ms per request")
    OUT.mkdir(exist_ok=True)
    write_text(OUT / "bench_reader.json", json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
