"""Translate a build (spec, plan, manifest, events) into what the export and report tools take.

`tools/` never imports `agent/`, so the agent hands them plain, typed inputs.
"""

from __future__ import annotations

from collections import Counter

from agent.language.requirements import trace, understood
from agent.runtime.context import BuildContext
from tools.contracts import Status
from tools.outputs.contracts import ExportInfo, IdentityScores, ReportInputs
from tools.outputs.train import latest_metrics


def class_targets(ctx: BuildContext) -> dict[str, int]:
    """Planned images per class, in the spec's class order."""
    counts = Counter(item.class_name for item in ctx.items.values())
    return {c.name: counts.get(c.name, 0) for c in ctx.spec.classes}


def cell_targets(ctx: BuildContext) -> dict[str, dict[str, dict[str, int]]]:
    """class -> factor -> level -> planned images, levels in the spec's order."""
    order = {f.name: [lv.name for lv in f.levels] for f in ctx.spec.factors}
    counts: dict[str, dict[str, Counter[str]]] = {}
    for item in ctx.items.values():
        for factor, level in item.attributes.items():
            counts.setdefault(item.class_name, {}).setdefault(factor, Counter())[level] += 1
    return {
        cls: {
            factor: {
                lv: per[lv] for lv in sorted(per, key=lambda lv: _rank(order.get(factor, []), lv))
            }
            for factor, per in factors.items()
        }
        for cls, factors in counts.items()
    }


def _rank(levels: list[str], level: str) -> tuple[int, str]:
    return (levels.index(level), "") if level in levels else (len(levels), level)


def thresholds(ctx: BuildContext) -> dict[str, float]:
    """The numeric acceptance thresholds of `quality:` (flags and critic blocks left out)."""
    return {
        k: float(v) for k, v in ctx.spec.quality.model_dump().items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def export_info(ctx: BuildContext) -> ExportInfo:
    records = ctx.manifest.records(Status.accepted)
    # every generator that drew an accepted image (variants may come from img2img)
    backends = sorted({r.backend for r in records if r.backend})
    models = sorted({r.model for r in records if r.model})
    return ExportInfo(
        name=ctx.spec.name,
        task=ctx.spec.task,
        class_names=[c.name for c in ctx.spec.classes],
        spec_text=ctx.paths.read_spec_text(),
        # where the build ran did not shape the data: the card leaves the executor out
        spec_yaml=ctx.spec.model_copy(update={"executor": "local"}).to_yaml(),
        understood=understood(ctx.spec),
        requirements=trace(ctx.spec),
        plan_summary=cell_targets(ctx),
        class_targets=class_targets(ctx),
        generator=", ".join(backends) or ctx.spec.generation.backend,
        model=", ".join(models),
        thresholds=thresholds(ctx),
    )


def stage_seconds(events: list[dict]) -> dict[str, float]:
    """Wall seconds per graph node, summed over every run of the build (from `timing` events)."""
    total: Counter[str] = Counter()
    for event in events:
        if event.get("event") == "timing":
            total.update(event.get("stages", {}))
    return {stage: round(seconds, 2) for stage, seconds in total.items()}


def report_inputs(ctx: BuildContext) -> ReportInputs:
    from tools.outputs.real_faces import read_evaluation

    info = export_info(ctx)
    events = ctx.events.read()
    training = latest_metrics(ctx.paths.runs, ctx.paths.dataset)
    return ReportInputs(
        **info.facts(),  # what the dataset card says of the build, the report says too
        title=f"facetory: {ctx.spec.name}",
        cell_targets=info.plan_summary,
        records=ctx.manifest.records(),
        training=training,
        real_faces=read_evaluation(training),
        events=events,
        timing=stage_seconds(events),
        locations={"dataset": str(ctx.paths.dataset), "runs": str(ctx.paths.runs)},
        base_dir=ctx.paths.root,
        identity=identity_scores(ctx),
        human_verdicts=dict(
            Counter(v.verdict for v in ctx.manifest.human_verdicts() if v.state != "queued")
        ),
    )


def identity_scores(ctx: BuildContext) -> IdentityScores | None:
    """Mated and non-mated score distributions for the report, when the build has identities."""
    path = ctx.paths.metrics / "identity.json"
    if ctx.spec.identities is None or not path.exists():
        return None
    from tools.outputs.identity_metrics import read_identity_metrics

    metrics = read_identity_metrics(path)
    return IdentityScores(
        mated=metrics.mated,
        non_mated=metrics.non_mated,
        threshold=ctx.spec.quality.identity_similarity,
        fmr=0.01,
    )
