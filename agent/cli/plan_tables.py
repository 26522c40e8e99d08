"""The plan as a person reviews it: tables per class and factor, the augmentation variants as
rows of their own, and the recorded settings that decide how the build is made."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from agent.cli.shared import console
from agent.language.spec import DatasetSpec
from agent.planning.plan import Plan
from agent.wording import within
from tools.config import IdentityConditionedConfig, ProceduralConfig


def settings_lines(spec: DatasetSpec) -> list[str]:
    """spec.yaml's build settings in a few words (command-line options land here too)."""
    g, q, t = spec.generation, spec.quality, spec.training
    gen = f"generation: {g.backend}"
    config = g.backend_config()
    if isinstance(config, ProceduralConfig):
        gen += f", fault rate {config.fault_rate:g}"
    else:
        gen += f", model {g.diffusers.model}, {g.diffusers.steps} steps"
    if isinstance(config, IdentityConditionedConfig):
        gen += f", IP-Adapter {g.identity.ip_adapter or 'none (img2img from the anchor)'}"
    critics = ["built-in checks"] + (["CNN detector"] if q.cnn_detector else [])
    if q.vlm is not None and q.vlm.enabled:
        critics.append(f"vision model {q.vlm.model} at {q.vlm.base_url}")
    if q.clip is not None:
        critics.append(f"CLIP {q.clip.model} ({q.clip.checkpoint})")
    train = f"training: {t.weights or t.model or 'yolo11n'}, {t.epochs} epochs at {t.imgsz} px"
    train += f", then scored on real faces: {t.real_faces}"
    return [gen, "critique: " + ", ".join(critics), train]


def print_variant_rows(plan: Plan) -> None:
    """The augmentation variants, one row per class and augmentation, with their quotas."""
    from agent.planning.variants import plan_variants, variant_rows

    rows = variant_rows(plan_variants(plan))
    if not rows:
        return
    table = Table(title="augmentation variants (drawn from accepted images)")
    table.add_column("row")
    table.add_column("images", justify="right")
    table.add_column("changes")
    changes = {a.name: ", ".join(f"{k}={v}" for k, v in a.attributes.items())
               for a in plan.spec.augmentations}
    for row, n in rows.items():
        table.add_row(escape(row), f"{n:,}", escape(changes.get(row.split(" ~ ", 1)[1], "")))
    console.print(table)


def print_plan_summary(plan: Plan, summary: dict[str, Any] | None = None) -> None:
    """Rich tables: the classes, then one table per factor (levels x classes, with targets)."""
    summary = summary or plan.summary()
    spec = plan.spec
    classes = list(summary["classes"])
    console.print(_class_table(spec, summary, classes))
    for factor in _in_order(summary["per_class"][c] for c in classes):
        table = _factor_table(spec, summary, classes, factor)
        if table is not None:
            console.print(table)
    if "faces" in summary:
        t = Table(title="faces per image")
        t.add_column("faces")
        for cname in classes:
            t.add_column(escape(cname), justify="right")
        for k in next(iter(summary["faces"].values())):
            t.add_row(k, *(str(summary["faces"][c][k]) for c in classes))
        console.print(t)
    balance = plan.balance()
    console.print(
        f"balance: every level {within(balance['marginal'])}, every pair of factors "
        f"{within(balance['pairwise'])}",
        highlight=False,
    )
    print_variant_rows(plan)
    for line in settings_lines(spec):
        console.print(escape(line), highlight=False, soft_wrap=True)


def _in_order(mappings: Any) -> list[str]:
    """The keys of several mappings, each once, in the order they first appear."""
    keys: list[str] = []
    for mapping in mappings:
        keys += [k for k in mapping if k not in keys]
    return keys


def _class_table(spec: DatasetSpec, summary: dict[str, Any], classes: list[str]) -> Table:
    """One row a class: images, split, people, fixed attributes."""
    table = Table(
        title=f"{escape(summary['name'])}: {summary['total']:,} images, seed {summary['seed']}"
    )
    for col in ("class", "images", "train", "val", "test"):
        table.add_column(col, justify="left" if col == "class" else "right")
    if "identities" in summary:
        table.add_column("people", justify="right")
    table.add_column("fixed")
    for cname in classes:
        cspec = spec.class_spec(cname)
        split = summary["splits"][cname]
        row = [escape(cname), f"{summary['classes'][cname]:,}", *(f"{split[s]:,}" for s in split)]
        if "identities" in summary:
            row.append(f"{summary['identities'][cname]:,}")
        fixed = ", ".join(f"{k}={v}" for k, v in (cspec.attributes if cspec else {}).items())
        table.add_row(*row, escape(fixed))
    return table


def _factor_table(spec: DatasetSpec, summary: dict[str, Any], classes: list[str],
                  factor: str) -> Table | None:
    """Levels x classes of one factor with its targets; None when no class varies it."""
    counts = {c: summary["per_class"][c].get(factor, {}) for c in classes}
    if not any(len([v for v in counts[c].values() if v]) > 1 for c in classes):
        return None
    f = spec.factor(factor)
    scope = " (per person)" if f is not None and f.scope == "identity" else ""
    if f is not None and f.numeric is not None and f.numeric.unit:
        scope += f", {f.numeric.unit}"
    t = Table(title=f"{factor}{scope}")
    t.add_column("level")
    for cname in classes:
        t.add_column(escape(cname), justify="right")
    if f is not None:
        t.add_column("target", justify="right")
    targets = f.targets() if f is not None else {}
    for lv in _in_order(counts[c] for c in classes):
        row = [escape(lv)] + [str(counts[c].get(lv, "")) for c in classes]
        if f is not None:
            share = targets.get(lv)
            row.append(f"{share * 100:.3g}%" if share is not None else "")
        t.add_row(*row)
    return t


def print_requirements(spec: DatasetSpec) -> None:
    """'Here is what I understood', then one row a requirement: how drawn, how checked."""
    from agent.language.requirements import NOT_DRAWN, trace, understood

    console.print(f"[bold]Here is what I understood:[/] {escape(understood(spec))}",
                  highlight=False)
    table = Table(title="requirements: how each is drawn and checked", show_lines=False)
    for col in ("asked", "drawn by", "checked by"):
        table.add_column(col, overflow="fold")
    table.add_column("flags", no_wrap=True)  # each flag whole: what a person scans for
    for r in trace(spec):
        flags = ", ".join(r.flags)
        style = "bold red" if NOT_DRAWN in r.flags else "yellow" if r.flags else ""
        table.add_row(escape(r.asked), escape(r.drawn_by), escape(r.checked_by),
                      f"[{style}]{escape(flags)}[/]" if style else flags)
    console.print(table)
