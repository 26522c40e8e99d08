"""Augmentation variants as plan items of their own, derived from the plan and the spec.

`spec.augmentations` asks for variants of a share of each class's images (`fraction`), with
changed attribute levels. The variants follow from plan.yaml and spec.yaml alone (both
covered by the approval), so they are never stored apart: every process derives the same
items, with ids `<base id>~<augmentation><k>`. A variant keeps its base's split (no leak of a
person across splits) and person; it becomes work only once its base has an accepted image
(`agent.runtime.nodes.variants`), and it is counted on its own status row, `<class> ~ <name>`.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.language.spec import Augmentation, DatasetSpec, slugify
from agent.planning.plan import Plan
from tools.contracts import PlanItem
from tools.generate.augment import transformation_prompt, variant_items

SEPARATOR = "~"


def quota_row(item: PlanItem) -> str:
    """The status row an item counts on: its class, or `<class> ~ <augmentation>`."""
    if item.augmentation:
        return f"{item.class_name} {SEPARATOR} {item.augmentation}"
    return item.class_name


def _chosen(items: list[PlanItem], fraction: float) -> list[PlanItem]:
    """`fraction` of the items, spread evenly over them in plan order (deterministic)."""
    n = len(items)
    m = min(n, max(1, round(fraction * n))) if n else 0
    return [items[(i * n) // m] for i in range(m)]


def _target_class(spec: DatasetSpec, base: PlanItem, attributes: dict[str, str]) -> str | None:
    """The class a variant belongs to: its base's class, unless the change contradicts a level
    the class fixes; then the one class whose fixed levels it has, if exactly one does."""
    own = spec.class_spec(base.class_name)
    if own is None or all(attributes.get(f) == lv for f, lv in own.attributes.items()):
        return base.class_name
    fits = [
        c.name for c in spec.classes
        if c.attributes and all(attributes.get(f) == lv for f, lv in c.attributes.items())
    ]
    return fits[0] if len(fits) == 1 else None


def variants_of(spec: DatasetSpec, base: PlanItem, aug: Augmentation) -> list[PlanItem]:
    """The variants `aug` asks of one base item; none when it changes nothing, breaks a
    constraint, or leaves the base's class without a class to go to."""
    changes = {f: lv for f, lv in aug.attributes.items() if base.attributes.get(f) != lv}
    if aug.attributes and not changes:
        return []
    attributes = {**base.attributes, **aug.attributes}
    if not all(con.allows(attributes) for con in spec.rules()):
        return []
    target = _target_class(spec, base, attributes)
    if target is None:
        return []
    name = slugify(aug.name)
    prompt = (
        f"{base.prompt.rstrip(', ')}, {aug.prompt}" if aug.prompt
        else transformation_prompt(base.prompt, changes)
    )
    out = []
    for k, drawn in enumerate(variant_items(base, changes or aug.attributes, aug.variants,
                                            name=name)):
        out.append(drawn.model_copy(update={
            "id": f"{base.id}{SEPARATOR}{name}{k}",
            "class_name": target,
            "identity": base.identity,
            "prompt": prompt,
            "parent": base.id,
            "augmentation": aug.name,
            "strength": aug.strength,
        }))
    return out


def plan_variants(plan: Plan) -> list[PlanItem]:
    """Every variant the spec's augmentations ask of the plan, in a stable order."""
    spec = plan.spec
    if not spec.augmentations:
        return []
    by_class: dict[str, list[PlanItem]] = {}
    for item in plan.items:
        by_class.setdefault(item.class_name, []).append(item)
    out: list[PlanItem] = []
    for aug in spec.augmentations:
        for c in spec.classes:
            for base in _chosen(by_class.get(c.name, []), aug.fraction):
                out.extend(variants_of(spec, base, aug))
    return out


def variant_rows(variants: Sequence[PlanItem]) -> dict[str, int]:
    """Status row -> planned variants, for the plan review."""
    rows: dict[str, int] = {}
    for item in variants:
        rows[quota_row(item)] = rows.get(quota_row(item), 0) + 1
    return rows
