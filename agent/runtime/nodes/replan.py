"""replan: the items still without an accepted image get another attempt, adjusted per cell."""

from __future__ import annotations

from collections import Counter, defaultdict

from langgraph.runtime import Runtime

from agent.runtime.context import BuildContext
from agent.runtime.nodes.assess import budget_left
from agent.runtime.replan_policy import CellReport, decide, retry_seed
from agent.runtime.state import BuildState
from tools.contracts import GUIDANCE_RANGE, PlanItem
from tools.safety import mentions_minors
from tools.stores.manifest_schema import WorkUnit


def cell_of(item: PlanItem) -> str:
    """The cell key: class plus the item's attribute levels, in a stable order."""
    levels = ",".join(f"{k}={v}" for k, v in sorted(item.attributes.items()))
    return f"{item.class_name}|{levels}"


def replan(state: BuildState, runtime: Runtime[BuildContext]) -> BuildState:
    ctx = runtime.context
    round_ = state.get("round", 0)
    accepted = ctx.manifest.accepted_item_ids()
    # a variant waits for its base: the variants node schedules it once the base is accepted
    short = [
        item for item in ctx.items.values()
        if item.id not in accepted and (item.parent is None or item.parent in accepted)
    ]
    short = short[: max(0, budget_left(ctx))]

    last_units = {u.item_id: u for u in ctx.manifest.work(round_)}
    latest = ctx.manifest.get(u.image_id for u in last_units.values())
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    missing: Counter[str] = Counter()
    attributes: dict[str, dict[str, str]] = {}
    for item in short:
        cell = cell_of(item)
        missing[cell] += 1
        attributes[cell] = item.attributes
        unit = last_units.get(item.id)
        record = latest.get(unit.image_id) if unit else None
        if record is not None:
            reasons[cell].update(record.reasons)
    reports = [CellReport(cell=c, missing=n, reasons=dict(reasons[c])) for c, n in missing.items()]
    decisions = decide(
        reports,
        attributes,
        llm=ctx.services.llm,
        on_fallback=lambda err: ctx.events.emit("llm_fallback", step="replan", error=err[:200]),
        young=_young_cells(short),
    )

    units = []
    base_guidance = ctx.spec.generation.guidance_scale
    for item in short:
        previous = last_units.get(item.id)
        attempt = previous.attempt + 1 if previous else round_ + 1
        adj = decisions[cell_of(item)]
        guidance = previous.guidance_scale if previous else None
        if adj.guidance_delta:
            guidance = (guidance if guidance is not None else base_guidance) + adj.guidance_delta
            guidance = min(max(guidance, GUIDANCE_RANGE[0]), GUIDANCE_RANGE[1])  # stays valid
        units.append(
            WorkUnit(
                item_id=item.id,
                attempt=attempt,
                seed=retry_seed(item.seed, attempt),
                prompt=_join(item.prompt, adj.prompt_addition),
                negative_prompt=_join(item.negative_prompt, adj.negative_addition),
                guidance_scale=guidance,
            )
        )
    ctx.manifest.set_work(round_ + 1, units)
    for cell, adj in sorted(decisions.items()):
        ctx.manifest.log_decision(round_ + 1, cell, adj)
    ctx.events.emit(
        "replanned",
        round=round_ + 1,
        items=len(units),
        cells=len(decisions),
        by=sorted({a.source for a in decisions.values()}),
    )
    return {"round": round_ + 1, "cursor": 0}


def _young_cells(items: list[PlanItem]) -> set[str]:
    """Cells whose prompt puts minors in the picture ("kids" in a class description), read
    from one item per cell: the items of a cell share their prompt."""
    first: dict[str, PlanItem] = {}
    for item in items:
        first.setdefault(cell_of(item), item)
    return {cell for cell, item in first.items() if mentions_minors(item.prompt)}


def _join(base: str, addition: str) -> str:
    return f"{base}, {addition}" if base and addition else base or addition
