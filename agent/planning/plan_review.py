"""`facetory review`: what a person changed in plan.yaml or spec.yaml, and the plan it implies.

An edit of the spec (quotas, proportions, settings) replans every item; an edit of item lines
keeps them and takes the quotas they imply; either is fitted to the images a started build
already accepted (`agent.planning.revision`). The diff says what changed, in the words of the
plan's tables. An edit to the computed summary is refused, naming its line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.language.safety import check_safety
from agent.language.spec import DatasetSpec, SpecError, validation_message
from agent.planning.diffusion_prompts import build_prompt
from agent.planning.plan import Plan, PlanItems
from agent.planning.plan_file import (
    APPROVAL,
    BASE,
    ItemChecker,
    item_record,
    items_digest,
    items_of,
    line_of,
    load_yaml,
    parse_plan,
    read_spec,
    read_text,
    spec_of,
    stored_items,
    write_plan,
    write_spec,
)
from agent.planning.plan_store import INLINE_MAX
from agent.planning.planner import make_plan
from agent.planning.revision import accepted_records, drawing_changes, fit_to_accepted
from tools.contracts import PlanItem


@dataclass
class Review:
    """What `facetory review` found and did."""

    plan: Plan
    changed: bool
    kind: str
    """'none', 'spec' (quotas/proportions edited: replanned) or 'items' (item lines edited)."""
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    edited: str = "plan.yaml"
    """The file the person edited (plan.yaml, or spec.yaml)."""


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        for i, v in enumerate(data):
            name = v.get("name") if isinstance(v.get("name"), str) else str(i)
            out.update(_flatten(v, f"{prefix}[{name}]"))
    else:
        out[prefix] = data
    return out


def diff_specs(old: DatasetSpec, new: DatasetSpec) -> list[str]:
    """`field: old -> new` lines for every spec field that differs."""
    a = _flatten(old.model_dump(mode="json"))
    b = _flatten(new.model_dump(mode="json"))
    lines = []
    for key in list(a) + [k for k in b if k not in a]:
        if a.get(key, "(none)") != b.get(key, "(none)"):
            lines.append(f"spec.{key}: {a.get(key, '(none)')} -> {b.get(key, '(none)')}")
    return lines


def diff_plans(old: Plan | None, new: Plan, limit: int = 40) -> list[str]:
    """What changed between two plans: class totals, level counts, then items."""
    if old is None:
        return [f"new plan: {len(new.items)} images"]
    lines = _count_changes(old.summary(), new.summary())
    if max(len(old.items), len(new.items)) > INLINE_MAX:  # reviewed by summary, not by line
        lines.append(f"items: {len(old.items):,} -> {len(new.items):,}, every one replanned")
    else:
        lines += _item_changes(old, new)
    if len(lines) > limit:
        lines = lines[:limit] + [f"... and {len(lines) - limit} more"]
    return lines


def _count_changes(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Class totals and level counts that differ between two plan summaries."""
    lines: list[str] = []
    for cname in list(a["classes"]) + [c for c in b["classes"] if c not in a["classes"]]:
        x, y = a["classes"].get(cname, 0), b["classes"].get(cname, 0)
        if x != y:
            lines.append(f"class {cname}: {x} -> {y} images")
    for cname, table in b["per_class"].items():
        before = a["per_class"].get(cname, {})
        for factor, levels in table.items():
            for level, count in levels.items():
                was = before.get(factor, {}).get(level, 0)
                if was != count:
                    lines.append(f"{cname} / {factor}={level}: {was} -> {count}")
    return lines


def _item_changes(old: Plan, new: Plan) -> list[str]:
    """Items added, removed and changed, by id (one line, or none)."""
    old_items = {it.id: it for it in old.items}
    new_ids = {item.id for item in new.items}
    added = sum(1 for item in new.items if item.id not in old_items)
    changed = sum(1 for item in new.items if item.id in old_items
                  and item_record(old_items[item.id]) != item_record(item))
    removed = sum(1 for i in old_items if i not in new_ids)
    if added or removed or changed:
        return [f"items: {added} added, {removed} removed, {changed} changed"]
    return []


def _prompted(spec: DatasetSpec, item: PlanItem, base: PlanItem | None) -> PlanItem:
    """Keep prompts in step with edited attributes (unless the person rewrote the prompt)."""
    if base is None or base.attributes == item.attributes:
        if item.prompt:
            return item
    elif item.prompt != base.prompt:
        return item
    cspec = spec.class_spec(item.class_name)
    prompt, negative = build_prompt(
        item.attributes,
        style=spec.generation.style,
        faces=item.faces,
        description=cspec.description if cspec else "",
    )
    return item.model_copy(update={"prompt": prompt, "negative_prompt": negative})


def _implied_spec(spec: DatasetSpec, items: list[PlanItem]) -> DatasetSpec:
    """The spec with class quotas (and identity count) that the edited items imply."""
    counts = {c.name: 0 for c in spec.classes}
    for item in items:
        counts[item.class_name] += 1
    empty = [name for name, n in counts.items() if n == 0]
    if empty:
        raise SpecError(
            f"plan.yaml: class '{empty[0]}' has no items left; remove it from spec.classes instead"
        )
    classes = [c.model_copy(update={"quota": counts[c.name]}) for c in spec.classes]
    update: dict[str, Any] = {"classes": [c.model_dump() for c in classes]}
    if spec.identities is not None:
        people = len({it.identity for it in items})
        update["identities"] = {
            "count": people,
            "images_per_identity": spec.identities.images_per_identity,
        }
    data = spec.model_dump()
    data.update(update)
    try:
        return DatasetSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(f"plan.yaml: the edited items give {validation_message(exc)}") from None


def _target_warnings(plan: Plan, limit: int = 10) -> list[str]:
    """Levels that hand edits moved more than one image off their target share."""
    out = []
    summary = plan.summary()
    for cname, quota in summary["classes"].items():
        for f in plan.spec.factors:
            levels = summary["per_class"][cname].get(f.name)
            if not levels or f.name in (plan.spec.class_spec(cname).attributes or {}):
                continue
            for level, share in f.targets().items():
                have = levels.get(level, 0)
                if abs(have - quota * share) >= 1:
                    out.append(
                        f"{cname} / {f.name}={level}: {have} planned, target {quota * share:g}"
                    )
    return out[:limit] + ([f"... and {len(out) - limit} more"] if len(out) > limit else [])


def review_plan(build_dir: str | Path, *, commit: bool = True, text: str | None = None) -> Review:
    """Validate an edited plan.yaml, rebalance what the edit implies, and (commit=True) write
    the result: spec.yaml and plan.yaml updated, any approval withdrawn.

    `text` reviews an edit held in memory (the web review's quota form) as if it were the
    file's content: nothing is written unless it is valid and `commit` is set."""
    root = Path(build_dir)
    path = root / "plan.yaml"
    if not path.exists():
        raise SpecError(f"{root} has no plan.yaml: run `facetory plan SPEC --out {root}` first")
    if text is None:
        text = read_text(path)
    where = str(path)
    data = load_yaml(text, where)
    spec = spec_of(data, text, where)
    base = _base(root, text, data)
    spec, edited = _edited_spec(root, spec, base, where)
    if base is not None:
        known_spec = base.spec
    else:
        known_spec = read_spec(root / "spec.yaml") if (root / "spec.yaml").exists() else spec
    stored = stored_items(data, where, root)  # its hash is checked: never edited by hand
    if stored is not None:
        # items facetory planned from this spec and hashed: the spec is checked here, every
        # prompt again at the generator's door (checking 2,000,000 prompts here would not pay)
        items: Any = PlanItems(stored)
        items_edited = False
        check_safety(spec, [], where)
    else:
        items = items_of(data, spec, text, where)
        check_safety(spec, items, where, ItemChecker(spec, text, where).line)
        records = [item_record(it) for it in items]
        items_edited = items_digest(records) != data.get("items_sha256")
    spec_edited = spec != known_spec
    if spec_edited and items_edited:
        raise SpecError(
            f"{where}: both spec and items were edited; change one, run review, then the other "
            "(a spec change replans every item)"
        )
    accepted = accepted_records(root)
    if spec_edited:
        new, fitted = fit_to_accepted(make_plan(spec), base, accepted)
        check_safety(spec, new.items, where)
        changes = diff_specs(known_spec, spec) + diff_plans(base, new) + fitted
        changes += drawing_changes(known_spec, spec, len(accepted))
        if commit:
            _commit(root, new)
        return Review(new, True, "spec", changes, edited=edited)
    if items_edited:
        base_items = {it.id: it for it in base.items} if base is not None else {}
        items = [_prompted(spec, it, base_items.get(it.id)) for it in items]
        check_safety(spec, items, where, ItemChecker(spec, text, where).line)
        implied = _implied_spec(spec, items)
        new, fitted = fit_to_accepted(
            Plan(spec=implied, seed=implied.seed, items=items), base, accepted
        )
        changes = diff_specs(spec, implied) + diff_plans(base, new) + fitted
        if commit:
            _commit(root, new)
        return Review(new, True, "items", changes, _target_warnings(new))
    plan = (
        Plan.from_columns(spec, spec.seed, stored)
        if stored is not None
        else Plan(spec=spec, seed=spec.seed, items=items)
    )
    _check_computed(plan, data, text, where)
    return Review(plan, False, "none")


def _base(root: Path, text: str, data: Any) -> Plan | None:
    """The plan as facetory last wrote it (.plan_base.yaml), or None."""
    base_path = root / BASE
    if not base_path.exists():
        return None
    base_text = read_text(base_path)
    # an unedited plan is its base: its YAML (half of a review's time) is read once
    return parse_plan(base_text, str(base_path), root, data=data if base_text == text else None)


def _check_computed(plan: Plan, data: Any, text: str, where: str) -> None:
    """The summary and balance sections are the plan's own: an edit to them is refused."""
    balance = plan.balance()
    computed = {
        "summary": json.loads(json.dumps(plan.summary())),
        "balance": {"marginal": balance["marginal"], "pairwise": balance["pairwise"]},
    }
    for section, expected in computed.items():
        if data.get(section) != expected:
            key = _first_difference(data.get(section), expected, section)
            raise SpecError(
                f"{where} line {line_of(text, key.split('.'))}: {key} was edited, but {section} "
                "is computed from the items; change quotas and proportions under spec: instead"
            )


def _edited_spec(
    root: Path, in_plan: DatasetSpec, base: Plan | None, where: str
) -> tuple[DatasetSpec, str]:
    """The spec the person wants and the file it came from: plan.yaml's `spec:` block, or
    spec.yaml when only that was edited (both are theirs to edit; an edit to either replans)."""
    path = root / "spec.yaml"
    if base is None or not path.exists():
        return in_plan, "plan.yaml"
    in_file = read_spec(path)
    if in_file == base.spec or in_file == in_plan:
        return in_plan, "plan.yaml"
    if in_plan != base.spec:
        raise SpecError(
            f"{where}: both its spec: block and {path} were edited, differently; keep one edit"
        )
    return in_file, "spec.yaml"


def _first_difference(a: Any, b: Any, prefix: str) -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(b) + [k for k in a if k not in b]:
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{prefix}.{k}")
    return prefix


def _commit(root: Path, plan: Plan) -> None:
    write_spec(plan.spec, root / "spec.yaml")
    write_plan(plan, root / "plan.yaml")
    (root / APPROVAL).unlink(missing_ok=True)
