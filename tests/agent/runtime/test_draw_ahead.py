"""A diffusion model draws the next batch on a thread while this one is judged; the build
takes those pictures only when they are exactly the batch's, so the dataset is the same."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from agent.cli.app import app
from agent.runtime.context import BuildContext, Options, Services
from agent.runtime.draw_ahead import DrawAhead, Job
from agent.runtime.nodes import generate as generate_node
from agent.runtime.runner import run_graph
from tests.agent.fakes import FakeCritic, fake_embedder
from tools.build_dir import BuildPaths
from tools.contracts import GeneratedImage, PlanItem, Status
from tools.generate.base import image_filename


def item(n: int, prompt: str = "a face") -> PlanItem:
    return PlanItem.model_validate(
        {"id": f"face-{n:06d}", "class": "face", "prompt": prompt, "seed": n})


class Painter:
    """Writes one file a job and notes which thread drew which batch."""

    def __init__(self, out_dir: Path, fail: bool = False) -> None:
        self.out_dir, self.fail = out_dir, fail
        self.calls: list[tuple[str, list[str]]] = []

    def __call__(self, jobs: list[Job]) -> dict[str, GeneratedImage]:
        self.calls.append((threading.current_thread().name, [it.id for _, it in jobs]))
        if self.fail:
            raise RuntimeError("out of GPU memory")
        drawn = {}
        for attempt, it in jobs:
            path = self.out_dir / image_filename(it, attempt)
            path.write_text(it.prompt)
            drawn[f"{it.id}-a{attempt}"] = GeneratedImage(
                item_id=it.id, path=str(path), width=8, height=8, backend="painter",
                model="test", seed=it.seed)
        return drawn


def test_the_next_batch_drawn_ahead_is_taken_without_drawing_it_again(tmp_path: Path) -> None:
    painter = Painter(tmp_path)
    ahead = DrawAhead(painter, tmp_path)
    batch = [(0, item(1)), (0, item(2))]
    ahead.start(batch)
    drawn = ahead.take([(0, item(1)), (0, item(2))])  # equal jobs, built again by the batch
    assert drawn is not None and sorted(drawn) == ["face-000001-a0", "face-000002-a0"]
    assert len(painter.calls) == 1 and painter.calls[0][0].startswith("draw-ahead")
    ahead.close(lambda path: True)
    assert (tmp_path / "face-000001-a0.png").read_text() == "a face"


def test_a_speculation_the_batch_does_not_match_is_dropped_and_its_files_removed(
        tmp_path: Path) -> None:
    painter = Painter(tmp_path)
    ahead = DrawAhead(painter, tmp_path)
    ahead.start([(0, item(1)), (0, item(2))])
    # replanning changed one prompt before the batch came: not the same pictures
    assert ahead.take([(0, item(1)), (0, item(2, "a smiling face"))]) is None
    recorded = {tmp_path / "face-000001-a0.png"}  # the batch drew and recorded this one again
    ahead.close(lambda path: path in recorded)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face-000001-a0.png"]


def test_a_speculation_that_failed_is_drawn_again_by_its_batch(tmp_path: Path) -> None:
    ahead = DrawAhead(Painter(tmp_path, fail=True), tmp_path)
    ahead.start([(0, item(1))])
    assert ahead.take([(0, item(1))]) is None  # the batch draws it and meets the error itself
    ahead.close(lambda path: False)


# --- a real diffusion build (a tiny random-weight pipeline on the CPU) -----------------------

SPEC = """\
name: ahead
classes: [{{name: none, quota: 3, attributes: {{eyewear: none}}}},
          {{name: glasses, quota: 3, attributes: {{eyewear: glasses}}}}]
budget: {{batch_size: 2, max_attempts_factor: 2}}
generation: {{backend: diffusers, diffusers: {{model: '{model}', steps: 2, device: cpu}}}}
image_size: 64
seed: 4
"""


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tools.tiny_sd import tiny_sd_once

    return tiny_sd_once(tmp_path_factory.getbasetemp())


class Threads:
    """The diffusers generator, noting the thread each of its calls ran on."""

    def __init__(self, generator) -> None:
        self.generator, self.names = generator, []
        self.name, self.image_size = generator.name, generator.image_size

    def generate(self, items, out_dir, *, attempt=0):
        self.names.append(threading.current_thread().name)
        return self.generator.generate(items, out_dir, attempt=attempt)


def built(tmp_path: Path, model: Path, name: str) -> tuple[dict[str, str], list[str]]:
    from typer.testing import CliRunner

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(model=model))
    paths = BuildPaths(tmp_path / name)
    result = CliRunner().invoke(app, ["plan", str(spec), "--out", str(paths.root), "--offline"])
    assert result.exit_code == 0, result.output
    generator = Threads(BuildContext(paths=paths).generator())
    services = Services(generator=generator, critic=FakeCritic(reject_share=0.25),
                        embedder=fake_embedder)
    ctx = BuildContext(paths=paths, options=Options(no_train=True, yes=True), services=services)
    assert run_graph(ctx, resume={"action": "approve"}).outcome == "done"
    accepted = {
        r.image_id: hashlib.sha256((paths.root / r.path).read_bytes()).hexdigest()
        for r in BuildContext(paths=paths).manifest.records(Status.accepted)
    }
    return accepted, generator.names


@pytest.mark.slow
def test_a_diffusion_build_draws_ahead_and_makes_the_same_dataset(
        tmp_path: Path, tiny_sd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ahead, threads = built(tmp_path, tiny_sd, "ahead")
    assert len(ahead) == 6
    assert sum(name.startswith("draw-ahead") for name in threads) >= 2  # batches 2 and 3
    assert not list((tmp_path / "ahead" / "images").glob("*.tmp"))

    monkeypatch.setattr(generate_node, "_drawing_ahead", lambda ctx: None)
    one_at_a_time, threads = built(tmp_path, tiny_sd, "serial")
    assert not any(name.startswith("draw-ahead") for name in threads)
    assert ahead == one_at_a_time
