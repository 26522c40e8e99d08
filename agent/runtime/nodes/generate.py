"""generate: render the next batch of the round's work list and record it as pending.

An identity-conditioned generator (its `generate` takes `references`) draws every person from
their anchor, the first accepted image (`Manifest.anchors`). A person with no anchor yet is
drawn in two passes: first their earliest item of the batch (smallest image id, the one that
becomes the anchor if accepted) without a reference, then their other items with that image
as the reference, so all of a new person's images show the same person. Both passes depend
only on the work list and the manifest, so a batch re-run after a crash draws the same bytes.

With more than one worker the procedural renderer's batch is drawn and judged on the worker
pool, and the next batch of the round is started there before this one is waited for
(`tools.execution.render_ahead`): its recipes are decided here, in the same order, so the
files are the ones this process would have drawn. A diffusion model draws in this process,
and starts the next batch on a thread before this one is recorded and judged
(`tools.execution.draw_ahead`).

What the executor produced goes to critique and dedup as the state's `batch_result`
(`tools.execution.batch.BatchResult`: never checkpointed).
"""

from __future__ import annotations

import contextlib
import inspect
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from langgraph.runtime import Runtime

from agent.runtime.context import BuildContext
from agent.runtime.state import BuildState
from tools.contracts import GeneratedImage, ManifestRecord, PlanItem, Status
from tools.execution.batch import BatchResult
from tools.execution.draw_ahead import DrawAhead
from tools.execution.image_tasks import RenderJob
from tools.generate.base import Generator
from tools.generate.procedural import ProceduralGenerator, unasked_variation
from tools.safety import UnsafePrompt, check_items
from tools.stores.manifest_schema import WorkUnit

Job = tuple[int, PlanItem]  # (attempt, the item as this attempt renders it)


def generate(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    ctx.start_workers()  # the pool loads its models while this batch renders
    round_, cursor = state.get("round", 0), state.get("cursor", 0)
    size = ctx.spec.budget.batch_size
    units = ctx.manifest.work(round_, cursor, cursor + size)
    # a batch the manifest has already decided (its steps' checkpoints were lost: a kill
    # while they were saved, an older state.sqlite) is not drawn again: its images are in
    # the duplicate store, and drawn again they were rejected as duplicates of themselves
    known = ctx.manifest.get(u.image_id for u in units)
    decided = sorted(i for i, r in known.items() if r.status is not Status.pending)
    units = [u for u in units if u.image_id not in decided]
    if not units:
        return {"batch": decided, "batch_result": None}
    following = ctx.manifest.work(round_, cursor + size, cursor + 2 * size)
    if ctx.renders_on_pool():
        jobs, result, parents = _draw_on_pool(ctx, units, following)
    else:
        jobs, images, parents = _draw(ctx, units, following)
        result = BatchResult.drawn(images)
    records = [
        _record(ctx, a, item, result.image(_image_id(a, item)),
                parents[item.parent].image_id if item.parent else None)
        for a, item in jobs
    ]
    ctx.manifest.upsert(records, round_=round_)
    return {"batch": [r.image_id for r in records] + decided, "batch_result": result}


def draw(ctx: BuildContext, units: list[WorkUnit]) -> dict[str, GeneratedImage]:
    """Draw work units into the build's images (also used to draw deleted images again)."""
    return _draw(ctx, units)[1]


def pool_jobs(ctx: BuildContext, units: list[WorkUnit]) -> list[RenderJob]:
    """The worker-pool jobs that draw `units` exactly as `_draw` draws them here (the
    procedural renderer): one `generate` call per attempt number, variants after the rest,
    each redrawing its base's person."""
    return _pool_jobs(ctx, *_split(ctx, units))


def _pool_jobs(
    ctx: BuildContext, jobs: list[Job], varied: list[Job], parents: Mapping[str, ManifestRecord]
) -> list[RenderJob]:
    generator = ctx.generator()
    assert isinstance(generator, ProceduralGenerator)
    judge = ctx.services.critic is None  # a test's own critic judges in this process
    describe = judge and ctx.spec.identities is not None and ctx.services.describer is None
    out = []
    for group in (jobs, _redrawn(varied, parents)):
        for attempt, items in _by_attempt(group):
            for recipe in generator.recipes(items):
                item = ctx.items[recipe.item.id]
                out.append(RenderJob(
                    recipe=recipe, image_size=generator.image_size, out_dir=ctx.paths.images,
                    photo_backgrounds=generator.photo_backgrounds, attempt=attempt,
                    judge=item if judge else None,
                    describe=describe and bool(item.identity),
                ))
    return out


def _draw_on_pool(
    ctx: BuildContext, units: list[WorkUnit], following: list[WorkUnit] | None = None
) -> tuple[list[Job], BatchResult, dict[str, ManifestRecord]]:
    """`_draw` on the worker pool, which also judges (`tools.execution.render_ahead`); `following`:
    the next batch's units, started once this batch's are, so the pool draws and judges them
    while this process records this batch. An unsafe prompt among them is left for their own
    batch to stop on."""
    jobs, varied, parents = _split(ctx, units)
    work = _pool_jobs(ctx, jobs, varied, parents)
    ahead = ctx.execution.render_ahead()
    ahead.start(work)
    if following:
        with contextlib.suppress(UnsafePrompt):
            ahead.start(pool_jobs(ctx, following))
    ctx.store()  # the duplicate store opens (about 0.5 s, once) while the pool draws
    done = ahead.take(work)
    drawn = [*jobs, *_redrawn(varied, parents)]
    result = BatchResult({_image_id(*job): p for job, p in zip(drawn, done, strict=True)})
    return [*jobs, *varied], result, parents


def _split(
    ctx: BuildContext, units: list[WorkUnit]
) -> tuple[list[Job], list[Job], dict[str, ManifestRecord]]:
    """(plain jobs, variant jobs, parent item -> its accepted record) of the units, checked
    by the safety door."""
    jobs = sorted(
        ((u.attempt, _item_for(ctx.items[u.item_id], u)) for u in units), key=lambda j: j[0]
    )  # a stable sort: by attempt, then work order
    # the generator's door: whatever wrote a prompt (template, hand edit, LLM, feedback),
    # an unsafe one stops the build before anything of this batch is drawn
    check_items(
        (item for _, item in jobs),
        after=f"nothing was generated for it; fix its prompt in {ctx.paths.plan_yaml}, then "
        f"`facetory review {ctx.paths.root}` and `facetory approve {ctx.paths.root}`",
    )

    varied = [j for j in jobs if j[1].parent]
    jobs = [j for j in jobs if not j[1].parent]
    parents = ctx.manifest.accepted_by_item(item.parent for _, item in varied if item.parent)
    return jobs, varied, parents


def _draw(
    ctx: BuildContext, units: list[WorkUnit], following: list[WorkUnit] | None = None
) -> tuple[list[Job], dict[str, GeneratedImage], dict[str, ManifestRecord]]:
    """(jobs in record order, image id -> image, parent item -> its accepted record);
    `following`: the next batch's units, which a diffusion model starts drawing on a thread
    (`tools.execution.draw_ahead`) while this batch is recorded and judged."""
    if ctx.renders_on_pool():
        jobs, result, parents = _draw_on_pool(ctx, units)
        return jobs, {i: p.image for i, p in result.images.items()}, parents
    jobs, varied, parents = _split(ctx, units)
    ahead = _drawing_ahead(ctx)
    images: dict[str, GeneratedImage] = {}
    if jobs:
        generator = ctx.generator()
        if "references" in inspect.signature(generator.generate).parameters:
            anchors = {who: ctx.paths.root / r.path for who, r in ctx.manifest.anchors().items()}
            images = _render_with_references(generator, jobs, ctx.paths.images, anchors)
        else:
            drawn = ahead.take(jobs) if ahead is not None else None
            images = drawn if drawn is not None else _render(generator, jobs, ctx.paths.images)
    if varied:
        images |= _vary(ctx, varied, parents)
    if ahead is not None and following:
        with contextlib.suppress(UnsafePrompt):  # left for its own batch to stop on
            ahead.start(_split(ctx, following)[0])
    return [*jobs, *varied], images, parents


def _drawing_ahead(ctx: BuildContext) -> DrawAhead | None:
    """The draw-ahead thread of a diffusion model that draws from the plan item alone; None
    for the procedural renderer (drawn here or on the pool) and identity-conditioned models
    (a new person is drawn from images not judged yet)."""
    execution = ctx.execution
    if execution.drawing_ahead is None and not ctx.backend_capabilities.pure_recipes:
        generator = ctx.generator()
        if "references" not in inspect.signature(generator.generate).parameters:
            execution.drawing_ahead = DrawAhead(
                lambda jobs: _render(generator, jobs, ctx.paths.images), ctx.paths.images
            )
    return execution.drawing_ahead


def _vary(
    ctx: BuildContext, jobs: list[Job], parents: Mapping[str, ManifestRecord]
) -> dict[str, GeneratedImage]:
    """Variants from their base's accepted image: the procedural renderer draws the same person
    again with the changed attributes (exact labels); diffusion backends run img2img on it."""
    if ctx.backend_capabilities.draws_levels:
        return _render(ctx.generator(), _redrawn(jobs, parents), ctx.paths.images)
    augmenter = ctx.augmenter()
    images = {}
    for attempt, item in jobs:
        assert item.parent is not None
        source = ctx.paths.root / parents[item.parent].path
        (image,) = augmenter.augment(
            source, [item], ctx.paths.images, strength=item.strength or 0.5, attempt=attempt
        )
        images[_image_id(attempt, item)] = image
    return images


def _redrawn(jobs: list[Job], parents: Mapping[str, ManifestRecord]) -> list[Job]:
    """Procedural variants: the item with its base image's person."""
    return [
        (a, item.model_copy(update={"identity": _person(parents[item.parent])}))
        for a, item in jobs if item.parent
    ]


def _person(parent: ManifestRecord) -> str:
    """The procedural renderer's key for the base image's (first) person."""
    return parent.identity or f"anon:{parent.seed}:0"


def _render_with_references(
    generator: Generator, jobs: list[Job], out_dir: Path, anchors: Mapping[str, Path]
) -> dict[str, GeneratedImage]:
    """Anchored people from their anchor; a new person's first image, then the rest from it."""
    firsts: dict[str, str] = {}  # new person -> image id of their first item in the batch
    for job in jobs:
        who, image_id = job[1].identity, _image_id(*job)
        if who and who not in anchors and (who not in firsts or image_id < firsts[who]):
            firsts[who] = image_id
    leads = set(firsts.values())
    leaders = [j for j in jobs if j[1].identity not in firsts or _image_id(*j) in leads]
    followers = [j for j in jobs if j[1].identity in firsts and _image_id(*j) not in leads]
    images = _render(generator, leaders, out_dir, anchors)
    if followers:
        drawn = {who: Path(images[image_id].path) for who, image_id in firsts.items()}
        images |= _render(generator, followers, out_dir, {**anchors, **drawn})
    return images


def _render(
    generator: Generator,
    jobs: list[Job],
    out_dir: Path,
    references: Mapping[str, Path] | None = None,
) -> dict[str, GeneratedImage]:
    """image id -> image, one generator call per attempt number."""
    extra = {"references": dict(references)} if references is not None else {}
    images = {}
    for attempt, items in _by_attempt(jobs):
        drawn = generator.generate(items, out_dir, attempt=attempt, **extra)
        for item, image in zip(items, drawn, strict=True):
            images[_image_id(attempt, item)] = image
    return images


def _by_attempt(jobs: list[Job]) -> list[tuple[int, list[PlanItem]]]:
    """The items of each attempt number, in job order (one generator call each)."""
    by_attempt: dict[int, list[PlanItem]] = defaultdict(list)
    for attempt, item in jobs:
        by_attempt[attempt].append(item)
    return sorted(by_attempt.items())


def _record(
    ctx: BuildContext, attempt: int, item: PlanItem, image: GeneratedImage, parent: str | None
) -> ManifestRecord:
    return ManifestRecord(
        image_id=_image_id(attempt, item),
        item_id=item.id,
        class_name=item.class_name,
        attributes=item.attributes,
        variation=_variation(item, image),
        faults=list(image.truth.faults) if image.truth else [],
        identity=ctx.items[item.id].identity,  # not the redrawn person key of a variant
        split=item.split,
        attempt=attempt,
        seed=item.seed,
        prompt=item.prompt,
        status=Status.pending,
        path=str(Path(image.path).resolve().relative_to(ctx.paths.root.resolve())),
        boxes=[face.box for face in image.truth.faces] if image.truth else [],
        backend=image.backend,
        model=image.model,
        parent=parent,
    )


def _variation(item: PlanItem, image: GeneratedImage) -> dict[str, str]:
    """The levels drawn for factors the item does not ask for: as the plan item declares them,
    else (a plan too large to list them) what the procedural renderer drew from the seed."""
    if item.variation or item.parent or image.backend != ProceduralGenerator.name:
        return {f: lv for f, lv in item.variation.items() if f not in item.attributes}
    return unasked_variation(item)


def _image_id(attempt: int, item: PlanItem) -> str:
    return f"{item.id}-a{attempt}"


def _item_for(item: PlanItem, unit: WorkUnit) -> PlanItem:
    """The plan item as this attempt renders it (replanning may change seed, prompt, guidance)."""
    return item.model_copy(
        update={
            "seed": unit.seed,
            "prompt": unit.prompt,
            "negative_prompt": unit.negative_prompt,
            "guidance_scale": unit.guidance_scale,
        }
    )
