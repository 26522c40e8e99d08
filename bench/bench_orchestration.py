"""Orchestration overhead per image: graph, manifest, checkpoints and store, with tools that
do nothing. Goal: at most 5 ms per image, so the agent never slows a GPU generator down.

Baseline, measured in the same run: the same manifest writes and store adds/queries done in
a plain loop without the graph, to show what the graph and its checkpoints add.

    .venv/bin/python bench/bench_orchestration.py [--images 2000] [--batch 64]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from agent.language.spec import DatasetSpec
from agent.planning.plan_file import write_plan, write_spec
from agent.planning.planner import make_plan
from agent.runtime.context import BuildContext, Options, Services
from agent.runtime.runner import run_graph
from tools.atomic import write_text
from tools.build_dir import BuildPaths
from tools.contracts import GeneratedImage, ManifestRecord, PlanItem, Status, Verdict
from tools.stores.dedup import DuplicateStore
from tools.stores.manifest import Manifest


def _tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    return buffer.getvalue()


TINY_PNG = _tiny_png()


class NullGenerator:
    name = "null"
    model = "null"

    def generate(
        self, items: list[PlanItem], out_dir: Path, *, attempt: int = 0
    ) -> list[GeneratedImage]:
        out = []
        out_dir.mkdir(parents=True, exist_ok=True)
        for item in items:
            path = out_dir / f"{item.id}-a{attempt}.png"
            path.write_bytes(TINY_PNG)  # a do-nothing generator: no fsync
            out.append(
                GeneratedImage(
                    item_id=item.id,
                    path=str(path),
                    width=1,
                    height=1,
                    backend="null",
                    model="null",
                    seed=item.seed,
                )
            )
        return out


class NullCritic:
    def judge(self, image_path: Path, item: PlanItem) -> Verdict:
        return Verdict(item_id=item.id, passed=True, score=1.0)


def random_embedder(dim: int = 64):
    rng = np.random.default_rng(0)

    def embed(path: Path) -> np.ndarray:
        v = rng.standard_normal(dim).astype(np.float32)
        return v / np.linalg.norm(v)

    return embed


def build_dir(root: Path, images: int, batch: int) -> BuildPaths:
    spec = DatasetSpec(
        name="bench",
        classes=[{"name": f"c{i}", "quota": images // 4} for i in range(4)],
        factors=[
            {"name": "gender", "balanced": True, "levels": [{"name": "female"}, {"name": "male"}]}
        ],
        budget={"batch_size": batch},
    )
    paths = BuildPaths(root)
    paths.root.mkdir(parents=True)
    write_text(paths.spec_txt, "bench")
    write_spec(spec, paths.spec_yaml)
    write_plan(make_plan(spec), paths.plan_yaml)
    return paths


def graph_run(root: Path, images: int, batch: int) -> float:
    paths = build_dir(root, images, batch)
    ctx = BuildContext(
        paths=paths,
        options=Options(no_train=True),
        services=Services(
            generator=NullGenerator(), critic=NullCritic(), embedder=random_embedder()
        ),
    )
    run_graph(ctx)  # stops at review
    ctx.events.path.unlink(missing_ok=True)
    start = time.perf_counter()
    run_graph(ctx, resume={"action": "approve"})
    elapsed = time.perf_counter() - start
    export_s = sum(e.get("seconds", 0) for e in ctx.events.read() if e["event"] == "exported")
    return elapsed - export_s


def plain_loop(root: Path, images: int, batch: int) -> float:
    """The same per-image bookkeeping without LangGraph: the floor the graph is compared to."""
    manifest = Manifest(root / "manifest.sqlite")
    store = DuplicateStore(root / "chroma", threshold=0.95)
    gen, embed = NullGenerator(), random_embedder()
    (root / "images").mkdir(parents=True)
    start = time.perf_counter()
    for first in range(0, images, batch):
        items = [
            PlanItem(id=f"c-{i:06d}", **{"class": "c"}, seed=i)
            for i in range(first, min(images, first + batch))
        ]
        made = gen.generate(items, root / "images")
        records, vectors = [], {}
        for image in made:
            v = embed(Path(image.path))
            store.check(v)
            vectors[image.item_id + "-a0"] = v
            records.append(
                ManifestRecord(
                    image_id=image.item_id + "-a0",
                    item_id=image.item_id,
                    class_name="c",
                    status=Status.accepted,
                    path=image.path,
                )
            )
        manifest.upsert(records, round_=0, embeddings=vectors)
        store.add_many(list(vectors), list(vectors.values()))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--batch", type=int, nargs="+", default=[16, 64])
    args = parser.parse_args()
    print(f"orchestration overhead, {args.images} images, generator/critic doing nothing")
    print(f"{'batch':>6} {'graph ms/img':>13} {'plain loop ms/img':>18} {'graph adds':>11}")
    for batch in args.batch:
        with tempfile.TemporaryDirectory() as tmp:
            graph_s = graph_run(Path(tmp) / "graph", args.images, batch)
            plain_s = plain_loop(Path(tmp) / "plain", args.images, batch)
        g, p = 1000 * graph_s / args.images, 1000 * plain_s / args.images
        print(f"{batch:>6} {g:>13.2f} {p:>18.2f} {g - p:>+11.2f}")
    print("goal: graph ms/img <= 5.0")


if __name__ == "__main__":
    main()
