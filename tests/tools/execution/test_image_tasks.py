"""One image from recipe to verdict in one task: what it gives is what the build's own steps
give one by one (draw, judge, embed, describe), so a pool running it changes nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from tools.config import ProceduralConfig
from tools.contracts import PlanItem
from tools.critic import Critic, CriticConfig
from tools.execution.image_tasks import RenderJob, land, prepare, prepare_shipped
from tools.generate.procedural import ProceduralGenerator
from tools.stores.embed import describe_file, embed_file


def items(n: int) -> list[PlanItem]:
    return [
        PlanItem(id=f"i{k}", **{"class": "face"}, seed=1000 + k, faces=1, identity=f"p{k % 2}",
                 attributes={"eyewear": "glasses" if k % 2 else "none"})
        for k in range(n)
    ]


def test_a_job_draws_judges_embeds_and_describes_as_the_steps_do_one_by_one(
    tmp_path: Path,
) -> None:
    # faults on most images, so the critic rejects some (the path dedup skips) and passes others
    generator = ProceduralGenerator(ProceduralConfig(fault_rate=0.8), image_size=128)
    batch = items(6)
    drawn = generator.generate(batch, tmp_path / "steps", attempt=1)
    critic = Critic(CriticConfig())
    jobs = [RenderJob(recipe=r, image_size=128, out_dir=tmp_path / "job", attempt=1,
                      judge=r.item, describe=True) for r in generator.recipes(batch)]

    verdicts = []
    for job, image, item in zip(jobs, drawn, batch, strict=True):
        done = prepare(job, critic)
        verdicts.append(done.verdict)
        path = Path(done.image.path)
        assert path.name == Path(image.path).name == f"{item.id}-a1.png"
        assert path.read_bytes() == Path(image.path).read_bytes()
        assert done.image.truth == image.truth
        assert done.verdict == critic.judge(Path(image.path), item)
        if not done.verdict.passed:  # dedup never looks at a rejected image
            assert done.embedding is None and done.descriptor is None
            continue
        np.testing.assert_array_equal(done.embedding, embed_file(path))
        assert done.box is not None and done.box == image.truth.faces[0].box
        np.testing.assert_array_equal(done.descriptor, describe_file(path, done.box))
    assert {v.passed for v in verdicts} == {True, False}  # both kinds were seen


def test_a_job_that_is_not_asked_to_judge_only_draws(tmp_path: Path) -> None:
    (recipe,) = ProceduralGenerator(image_size=96).recipes(items(1))
    done = prepare(RenderJob(recipe=recipe, image_size=96, out_dir=tmp_path, attempt=0))
    assert Path(done.image.path).is_file()
    assert done.verdict is None and done.embedding is None and done.descriptor is None


def test_a_job_drawn_where_the_build_is_not_comes_back_as_bytes_that_land_as_prepare_wrote(
    tmp_path: Path,
) -> None:
    """A Ray actor on another node has no build folder: what it draws travels back."""
    generator = ProceduralGenerator(ProceduralConfig(fault_rate=0.5), image_size=128)
    critic = Critic(CriticConfig())
    for recipe in generator.recipes(items(4)):
        job = RenderJob(recipe=recipe, image_size=128, out_dir=tmp_path / "build", attempt=1,
                        judge=recipe.item, describe=True)
        here = prepare(replace(job, out_dir=tmp_path / "here"), critic)
        shipped = prepare_shipped(job, critic)
        assert not job.path.exists() and shipped.image.path == str(job.path)
        assert shipped.verdict == here.verdict and shipped.image.truth == here.image.truth
        for a, b in ((shipped.embedding, here.embedding), (shipped.descriptor, here.descriptor)):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_array_equal(a, b)
        land(job, shipped)
        assert job.path.read_bytes() == Path(here.image.path).read_bytes()
        assert shipped.png is None  # landed once


def test_a_job_draws_the_backgrounds_its_build_asked_for(tmp_path: Path) -> None:
    batch = items(2)
    for share in (0.0, 1.0):
        generator = ProceduralGenerator(ProceduralConfig(photo_backgrounds=share), image_size=96)
        drawn = generator.generate(batch, tmp_path / f"steps{share}")
        for recipe, image in zip(generator.recipes(batch), drawn, strict=True):
            job = RenderJob(recipe=recipe, image_size=96, out_dir=tmp_path / f"job{share}",
                            attempt=0, photo_backgrounds=share)
            assert Path(prepare(job).image.path).read_bytes() == Path(image.path).read_bytes()
    flat, photo = (sorted((tmp_path / f"job{s}").iterdir()) for s in (0.0, 1.0))
    assert flat[0].read_bytes() != photo[0].read_bytes()
