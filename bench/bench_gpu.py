"""GPU benchmark (issue 16 §3): diffusion images/s, diffusers' defaults against facetory's
settings, and how much of a build the GPU spends generating rather than waiting for critique.

    python bench/bench_gpu.py                 # on a CUDA machine: the SD-1.5-sized run
    python bench/bench_gpu.py --tiny          # anywhere, ~1 min on CPU: the smoke run

Offline and weight-free: an SD-1.5-sized pipeline (bench/random_sd15.py: UNet 860M, VAE 84M,
CLIP text encoder 123M parameters, the configs of `stable-diffusion-v1-5`) is built with random
weights at run time and saved to a temporary directory, so every figure goes through the
product's own code: `tools.generate.get_generator(DiffusersConfig(...))` loads it
(`load_pipeline`) and draws with `DiffusersGenerator.generate` (batching, seeding, PNG writing
included). Random weights
have the real model's FLOPs; the tokenizer is a tiny byte-level one (prompts are padded to 77
tokens either way). The images are noise, which the critic rejects at its first check.

What it prints, as it goes (flushed, so a run cut off by a time limit still shows its lines):
1. the machine, library versions and the model's parameter counts;
2. images/s per setting, each after a warm-up batch, the same prompts and step count:
   diffusers' defaults (fp32, batch 1, diffusers' default attention, which on torch 2 is
   already SDPA), the same with pre-torch-2 attention (`AttnProcessor`), then facetory's
   settings: fp16 + SDPA + channels_last at batch 1, at its default batch size and larger
   batches, and `torch_compile` at the best batch; then the ratios. Goal: >= 4x.
3. a small real build through the command line (`python -m agent build SPEC --yes --no-train
   --offline`, backend diffusers with the random-weight model, few steps, one critic worker
   per core), twice: as the product draws (the next batch on a thread while this one is judged,
   `tools/execution/draw_ahead.py`) and one batch at a time, the baseline of the same run. For each:
   the build's `timing` event per stage, the seconds spent inside the pipeline call (timed
   around `run_pipeline`), their share of the batch loop's span (GPU busy), and NVML's GPU
   utilisation when it can be read. Goal: GPU busy >= 90%. Noise images are rejected before
   the landmark and attribute checks, so the critique here is lighter than on real faces: this
   busy share is an upper bound.

A `--budget-s` (default 420) keeps a run inside an 8-minute slot: a stage that would not
fit is skipped with a line saying so. Without a GPU and without --tiny it says so and exits 0
(`make bench` runs every bench script).

On the lent GPU machine (the `device` tool; no network; its Python 3.12 has torch and
transformers but not diffusers, pydantic, langgraph, chromadb or dlib): first, on this
machine in the repository root, `bash bench/gpu_wheels.sh` puts those wheels and the one dlib
model the build loads into the git-ignored .whl/ (55 MB of the 64 MiB a run may carry); then
a run with carry [".whl"] and timeout_s 540:

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD/.whl/site || exit; \
      PYTHONUNBUFFERED=1 python3 bench/bench_gpu.py 2>&1 | tee $OUT/bench_gpu.log

The same command was tried on a CPU machine with Python 3.11, the device image's packages
and those wheels only (`PYVER=3.11 DEST=... bash bench/gpu_wheels.sh`), with `--tiny`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Stages of the build outside its batch loop (planning before, export and report after).
OUTSIDE_LOOP = frozenset({"parse", "plan", "review", "export", "report", "train", "finish"})
PROMPT = "a photo of a face, photorealistic"


def say(line: str = "") -> None:
    print(line, flush=True)


# --- images/s -------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    batch: int
    images: int
    seconds: float
    attention: str

    @property
    def rate(self) -> float:
        return self.images / self.seconds


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def measure(label: str, config: Any, *, image_size: int, images: int, out: Path,
            warmups: int = 1, prepare: Any = None) -> Row:
    """Images/s of the product's generator for `config`: warm-up batches, then at least
    `images` images in whole batches (a smaller last batch would be a new shape)."""
    from tools.contracts import PlanItem
    from tools.generate import get_generator
    from tools.generate.diffusers_backend import attention_processors

    gen = get_generator(config, image_size=image_size)
    pipe = gen.pipeline
    undo = prepare(pipe) if prepare is not None else None
    batch = config.batch_size
    count = batch * max(1, -(-images // batch))
    items = [PlanItem(id=f"b{i}", **{"class": "face"}, seed=1000 + i, prompt=PROMPT)
             for i in range(count + warmups * batch)]
    for w in range(warmups):
        t0 = time.perf_counter()
        gen.generate(items[w * batch:(w + 1) * batch], out / "warmup")
        say(f"      warm-up batch {w + 1}: {time.perf_counter() - t0:.1f} s")
    device = config.device or "cpu"
    sync(device)
    t0 = time.perf_counter()
    drawn = gen.generate(items[warmups * batch:], out / label.replace(" ", "_"))
    sync(device)
    seconds = time.perf_counter() - t0
    writing = sum(image.timings_ms.get("write", 0.0) for image in drawn) / 1e3
    shutil.rmtree(out, ignore_errors=True)  # 512 px PNGs add up
    row = Row(label, batch, count, seconds, ",".join(sorted(attention_processors(pipe))))
    if undo is not None:
        undo()
    say(f"  {label:<46} batch {batch:>3}  {count:>4} images in {seconds:7.2f} s  "
        f"{row.rate:8.2f} images/s  [{row.attention}; PNG writing {100 * writing / seconds:.0f}%]")
    return row


def classic_attention(pipe: Any) -> Any:
    """Swap the UNet's attention for diffusers' pre-torch-2 `AttnProcessor`; returns the undo
    (the pipeline is shared: on the CPU the product's rows run the same fp32 one)."""
    before = pipe.unet.attn_processors
    from diffusers.models.attention_processor import AttnProcessor

    pipe.unet.set_attn_processor(AttnProcessor())
    return lambda: pipe.unet.set_attn_processor(before)


def throughput(args: argparse.Namespace, model: Path, clock: Clock) -> list[Row]:
    from tools.config import DiffusersConfig

    common = {"model": str(model), "steps": args.steps, "device": args.device}
    out = Path(args.work) / "images"
    say(f"\n== images/s, {args.image_size} px, {args.steps} steps, guidance 7.5 "
        f"(classifier-free: the UNet sees 2x the batch) ==")
    baseline = DiffusersConfig(**common, dtype="float32", batch_size=1, channels_last=False)
    rows = [measure("diffusers defaults: fp32, batch 1", baseline, image_size=args.image_size,
                    images=args.images, out=out)]
    if clock.left() > 60:
        rows.append(measure("fp32, batch 1, pre-torch-2 attention", baseline,
                            image_size=args.image_size, images=args.images, out=out,
                            prepare=classic_attention))
    product = DiffusersConfig(**common)  # dtype, channels_last: the product's defaults
    say(f"  facetory: dtype {'float16 on CUDA' if product.dtype is None else product.dtype}, "
        f"channels_last {'on CUDA' if product.channels_last is None else product.channels_last}"
        f", default batch_size {product.batch_size}")
    for batch in sorted({1, product.batch_size, *args.batches}):
        if clock.left() < 45 and batch != product.batch_size:  # its defaults: always
            say(f"  (batch {batch} skipped: {clock.left():.0f} s of the budget left)")
            continue
        label = "facetory settings" + (" (its defaults)" if batch == product.batch_size else "")
        rows.append(measure(label, product.model_copy(update={"batch_size": batch}),
                            image_size=args.image_size, images=args.images, out=out))
    ours = [r for r in rows if r.label.startswith("facetory settings")]
    best = max(ours, key=lambda r: r.rate)
    if args.compile and clock.left() > args.compile_reserve_s:
        compiled = product.model_copy(update={"batch_size": best.batch, "torch_compile": True})
        rows.append(measure("facetory settings + torch_compile", compiled,
                            image_size=args.image_size, images=args.images, out=out,
                            warmups=2))
    elif args.compile:
        say(f"  (torch_compile skipped: {clock.left():.0f} s of the budget left, "
            f"{args.compile_reserve_s} s reserved for it)")
    else:
        say("  (torch_compile not measured: --tiny or --no-compile; --compile measures it, "
            "~45 s of inductor for the tiny UNet on a CPU)")
    base = rows[0]
    default = next((r for r in rows if "defaults)" in r.label), None)
    best = max((r for r in rows if r.label.startswith("facetory settings")),
               key=lambda r: r.rate)
    say("\n  ratio over diffusers' defaults (goal >= 4x):")
    if default is not None:
        say(f"    facetory defaults (batch {default.batch}): {default.rate / base.rate:6.2f}x")
    say(f"    best: {best.label}, batch {best.batch}: {best.rate / base.rate:6.2f}x")
    compiled_row = next((r for r in rows if "torch_compile" in r.label), None)
    eager = next((r for r in rows if r.label.startswith("facetory settings")
                  and r is not compiled_row and r.batch == getattr(compiled_row, "batch", 0)),
                 None)
    if compiled_row is not None and eager is not None:
        say(f"    torch_compile at batch {eager.batch}: {compiled_row.rate / eager.rate:6.2f}x "
            "over the same settings uncompiled (its compilation: the warm-up lines above)")
    return rows


# --- GPU busy during a build ----------------------------------------------------------------


def build_spec(model: Path, args: argparse.Namespace) -> str:
    batch = args.build_batch
    return (
        "name: bench_gpu\n"
        f"classes: [{{name: face, quota: {args.build_images}}}]\n"
        f"budget: {{batch_size: {args.build_budget_batch}, max_attempts_factor: 1}}\n"
        f"generation: {{backend: diffusers, diffusers: {{model: '{model}', "
        f"steps: {args.build_steps}, batch_size: {batch}, device: {args.device}}}}}\n"
        "quality: {demographic_checks: 'off', landmark_points: 5}\n"
        f"image_size: {args.image_size}\nseed: 1\n"
    )


class Utilisation:
    """NVML's GPU utilisation sampled every 0.1 s in a thread (None when NVML is not there)."""

    def __init__(self, device: str) -> None:
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if not device.startswith("cuda"):
            return
        try:
            import torch

            torch.cuda.utilization()
        except Exception as exc:  # no pynvml, no permission: report without it
            say(f"  (NVML utilisation not read: {type(exc).__name__}: {exc})")
            return
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import torch

        while not self._stop.wait(0.1):
            self.samples.append(int(torch.cuda.utilization()))

    def __enter__(self) -> Utilisation:
        if self._thread:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def active_mean(self) -> float | None:
        """Mean utilisation from the first to the last busy sample (model loading before the
        first batch and export after the last are not the loop)."""
        busy = [i for i, s in enumerate(self.samples) if s > 0]
        if not busy:
            return None
        span = self.samples[busy[0]:busy[-1] + 1]
        return sum(span) / len(span)


#: How the build part runs: as the product draws (the next batch on a thread while this one is
#: judged, `tools/execution/draw_ahead.py`), and one batch at a time, the baseline of the same run.
DRAWING = {"draw-ahead": True, "one batch at a time": False}


def build_share(args: argparse.Namespace, model: Path, clock: Clock, drawing: str
                ) -> dict[str, Any] | None:
    say(f"\n== GPU busy during a build, {drawing}: {args.build_images} images, "
        f"{args.build_steps} steps, generation batch {args.build_batch}, build batch "
        f"{args.build_budget_batch}, critic workers: {args.workers or 'one per core'} ==")
    work = Path(args.work) / drawing.replace(" ", "_")
    work.mkdir(parents=True, exist_ok=True)
    spec, out, probe = work / "spec.yaml", work / "build", work / "pipeline_seconds.json"
    spec.write_text(build_spec(model, args), encoding="utf-8")
    child = ["--build-child", str(probe)] + ([] if DRAWING[drawing] else ["--one-at-a-time"])
    command = [sys.executable, str(Path(__file__).resolve()), *child, "--",
               "build", str(spec), "--out", str(out), "--yes", "--no-train", "--offline"]
    if args.workers:
        command += ["--workers", str(args.workers)]
    say("  $ python -m agent " + " ".join(command[command.index("--") + 1:]))
    timeout = max(clock.left(), 60)
    t0 = time.perf_counter()
    with Utilisation(args.device) as nvml:
        # a session of its own, so a build cut off by the budget goes with its critic workers
        build = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            stdout, stderr = build.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(build.pid, signal.SIGKILL)
            build.communicate()
            say(f"  build stopped after {timeout:.0f} s (the --budget-s); no share measured")
            return None
    wall = time.perf_counter() - t0
    if build.returncode != 0:
        tail = (stderr.strip() or stdout.strip()).splitlines()[-3:]
        say(f"  build failed (exit {build.returncode}): " + " | ".join(tail))
        return None
    events = [json.loads(line) for line in
              (out / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    timing = [e for e in events if e.get("event") == "timing"]
    calls = json.loads(probe.read_text(encoding="utf-8"))
    say(f"  build wall {wall:.1f} s (process start, planning, export and report included)")
    say("  stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in _sum_stages(timing).items()))
    say(f"  pipeline: {len(calls)} calls, {sum(c['images'] for c in calls)} images, "
        f"{sum(c['seconds'] for c in calls):.2f} s inside `run_pipeline`")
    first = next((e["t"] for e in timing if "generate" in e["stages"]), None)
    shares = {"whole loop (its first batch loads the model and starts the critic pool)":
              _share(timing, calls, after=0.0)}
    if first is not None and any(c["end"] > first for c in calls):
        shares["after the first batch"] = _share(timing, calls, after=first)
    for label, (busy, loop, stages) in shares.items():
        say(f"  {label}: {loop:.2f} s, GPU busy {100 * busy:.1f}% (goal >= 90%); the stages "
            "(overlapping the pipeline): " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))
    if "after the first batch" not in shares:  # every call was drawn before it was recorded
        say("  after the first batch: no pipeline call ended after it; no share to measure")
    mean = nvml.active_mean()
    if mean is not None:
        say(f"  NVML GPU utilisation, first to last busy sample: {mean:.0f}% "
            f"({len(nvml.samples)} samples)")
    return {"shares": shares, "nvml": mean}


def _sum_stages(timing: list[dict[str, Any]]) -> dict[str, float]:
    stages: dict[str, float] = {}
    for event in timing:
        for stage, seconds in event["stages"].items():
            stages[stage] = stages.get(stage, 0.0) + seconds
    return stages


def _share(timing: list[dict[str, Any]], calls: list[dict[str, Any]], *, after: float
           ) -> tuple[float, float, dict[str, float]]:
    """(GPU busy share, loop seconds, the loop's stage seconds) over the batch loop's timing
    events logged after `after` (a time.time()). The pipeline draws the next batch on a thread
    while this one is judged (`tools.execution.draw_ahead`), so its calls overlap the stages: the
    share is the time inside pipeline calls within the loop's span over that span, and the
    stage seconds overlap it (they are not what the GPU waited for)."""
    loop_events = [e for e in timing if e["t"] > after and not set(e["stages"]) <= OUTSIDE_LOOP]
    if not loop_events:
        return 0.0, 0.0, {}
    first = loop_events[0]
    start = after or first["t"] - sum(first["stages"].values())
    end = loop_events[-1]["t"]
    inside = sum(max(0.0, min(c["end"], end) - max(c["end"] - c["seconds"], start))
                 for c in calls)
    stages = {k: v for k, v in _sum_stages(loop_events).items() if k not in OUTSIDE_LOOP}
    loop = end - start
    return (inside / loop if loop > 0 else 0.0), loop, stages


def build_child(probe: Path, argv: list[str], one_at_a_time: bool = False) -> None:
    """Run `python -m agent ARGV` with the pipeline call timed, then write the totals;
    `one_at_a_time`: without drawing the next batch ahead (the baseline)."""
    from tools.generate import diffusers_backend

    if one_at_a_time:
        from agent.runtime.nodes import generate

        generate._drawing_ahead = lambda ctx: None

    real = diffusers_backend.run_pipeline
    calls: list[dict[str, float]] = []

    def timed(pipe: Any, batch: Any, **kwargs: Any) -> list:
        device = str(getattr(pipe, "device", "cpu"))
        sync(device)
        t0 = time.perf_counter()
        try:
            return real(pipe, batch, **kwargs)
        finally:
            sync(device)
            calls.append({"end": time.time(), "seconds": time.perf_counter() - t0,
                          "images": len(batch)})

    diffusers_backend.run_pipeline = timed
    sys.argv = ["facetory", *argv]
    from agent.__main__ import main

    try:
        main()
    finally:
        probe.write_text(json.dumps(calls), encoding="utf-8")


# --- the run --------------------------------------------------------------------------------


class Clock:
    def __init__(self, budget: float) -> None:
        self.start, self.budget = time.perf_counter(), budget

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        return self.budget - self.elapsed()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tiny", action="store_true",
                   help="the tiny test pipeline on the CPU, 64 px: checks the script, ~1 min")
    p.add_argument("--device", default=None, help="cuda (default when there is one) or cpu")
    p.add_argument("--image-size", type=int, default=None, help="default 512 (64 with --tiny)")
    p.add_argument("--steps", type=int, default=None,
                   help="denoising steps of the images/s runs (default 30, the product's)")
    p.add_argument("--images", type=int, default=None,
                   help="images timed per setting, at least (default 8; 2 with --tiny)")
    p.add_argument("--batches", default=None,
                   help="batch sizes to try besides 1 and the default (default 8,16)")
    p.add_argument("--compile", dest="compile", action="store_true", default=None,
                   help="measure torch_compile (the default, but not with --tiny: ~45 s of "
                   "inductor on a CPU)")
    p.add_argument("--no-compile", dest="compile", action="store_false",
                   help="do not measure torch_compile")
    p.add_argument("--compile-reserve-s", type=float, default=150,
                   help="skip torch_compile when less of the budget than this is left")
    p.add_argument("--build-images", type=int, default=None, help="default 160 (8 with --tiny)")
    p.add_argument("--build-steps", type=int, default=None,
                   help="steps in the build (default 4: a few-step model, the GPU's best case "
                   "and the critic's worst)")
    p.add_argument("--build-batch", type=int, default=8, help="generation batch in the build")
    p.add_argument("--build-budget-batch", type=int, default=32,
                   help="the build's batch (images generated, then judged, per round trip)")
    p.add_argument("--workers", type=int, default=None,
                   help="critic workers (default: one per core; 1 with --tiny)")
    p.add_argument("--no-build", dest="build", action="store_false", help="skip the build")
    p.add_argument("--model", type=Path, default=None,
                   help="an existing pipeline directory instead of building one")
    p.add_argument("--budget-s", type=float, default=420,
                   help="stages that would not fit in this many seconds are skipped")
    p.add_argument("--work", default=None, help="scratch directory (default: a temporary one)")
    p.add_argument("--build-child", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--one-at-a-time", action="store_true", help=argparse.SUPPRESS)
    args, rest = p.parse_known_args(argv)
    args.rest = rest[1:] if rest[:1] == ["--"] else rest
    tiny = args.tiny
    args.image_size = args.image_size or (64 if tiny else 512)
    args.steps = args.steps or (2 if tiny else 30)
    args.images = args.images or (2 if tiny else 8)
    args.batches = [int(b) for b in (args.batches or ("2" if tiny else "8,16")).split(",")]
    args.build_images = args.build_images or (8 if tiny else 160)
    args.build_steps = args.build_steps or (2 if tiny else 4)
    if args.compile is None:
        args.compile = not tiny
    if tiny:
        args.build_batch = min(args.build_batch, 4)
        args.build_budget_batch = min(args.build_budget_batch, 4)
        args.workers = args.workers or 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.build_child is not None:
        build_child(args.build_child, args.rest, args.one_at_a_time)
        return 0
    warnings.filterwarnings("ignore")  # noise images: numpy's invalid-value casts, etc.
    import torch

    if args.device is None and not args.tiny and not torch.cuda.is_available():
        say("no CUDA GPU visible: nothing to measure (python bench/bench_gpu.py --tiny runs "
            "the CPU smoke run; --device cpu the SD-1.5-sized one, slowly)")
        return 0
    if args.device is None:
        args.device = "cuda" if torch.cuda.is_available() and not args.tiny else "cpu"
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.stderr.write("error: --device cuda but torch sees no CUDA GPU\n")
        return 2
    if args.tiny:
        torch.set_num_threads(1)  # tiny tensors on a shared CPU: one thread is far faster
    clock = Clock(args.budget_s)
    import diffusers
    import transformers

    gpu = (f"{torch.cuda.get_device_name()}, CUDA {torch.version.cuda}"
           if args.device.startswith("cuda") else "CPU smoke run: the figures mean nothing")
    say(f"bench_gpu: {gpu}; torch {torch.__version__}, diffusers {diffusers.__version__}, "
        f"transformers {transformers.__version__}; {os.cpu_count()} cores; "
        f"budget {args.budget_s:.0f} s")
    with tempfile.TemporaryDirectory(prefix="bench_gpu_", dir=args.work) as tmp:
        args.work = tmp
        t0 = time.perf_counter()
        from bench.random_sd15 import build_sd15, parameter_counts

        if args.model is not None:
            model = args.model
        elif args.tiny:
            from tests.tools.tiny_sd import build_tiny_sd

            model = build_tiny_sd(Path(tmp) / "model")
        else:
            model = build_sd15(Path(tmp) / "model", args.device)
        counts = parameter_counts(model)
        say(f"model {'tiny test pipeline' if args.tiny else 'SD-1.5-sized, random weights'}: "
            + ", ".join(f"{k} {v:.1f}M" for k, v in counts.items())
            + f" parameters (built and saved in {time.perf_counter() - t0:.1f} s)")
        throughput(args, model, clock)
        say(f"\n  ({clock.elapsed():.0f} s so far)")
        for drawing in DRAWING if args.build else ():
            if clock.left() > 45:
                build_share(args, model, clock, drawing)
            else:
                say(f"\n(build {drawing} skipped: {clock.left():.0f} s of the budget left)")
    say(f"\nbench_gpu done in {clock.elapsed():.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
