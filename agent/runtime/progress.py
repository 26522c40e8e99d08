"""Where a build stands, from the manifest and the plan: for progress bars and `status --json`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from agent.planning.plan import Plan
from agent.planning.variants import quota_row
from tools.contracts import PlanItem, Status
from tools.stores.manifest import Manifest


def build_status(
    plan: Plan | Sequence[PlanItem], manifest: Manifest, *, stop_reason: str | None = None
) -> dict:
    """complete, classes (target/accepted/rejected by reason/duplicates/attempts) and cells.

    Pass every item of the build (`BuildContext.items`) and augmentation variants get rows of
    their own, `<class> ~ <augmentation>`, counted against their own quotas.
    """
    items = list(plan.items if isinstance(plan, Plan) else plan)
    row_of = {item.id: quota_row(item) for item in items}
    targets = Counter(row_of.values())
    classes: dict[str, dict[str, Any]] = {
        name: {"target": n, "accepted": 0, "rejected": {}, "duplicates": 0, "attempts": 0}
        for name, n in targets.items()
    }
    accepted_items: set[str] = set()
    rejected: dict[str, Counter[str]] = defaultdict(Counter)
    for record in manifest.records():
        row = row_of.get(record.item_id, record.class_name)
        entry = classes.setdefault(
            row,
            {"target": 0, "accepted": 0, "rejected": {}, "duplicates": 0, "attempts": 0},
        )
        entry["attempts"] += 1
        if record.status is Status.accepted:
            entry["accepted"] += 1
            accepted_items.add(record.item_id)
        elif record.status is Status.duplicate:
            entry["duplicates"] += 1
        elif record.status is Status.rejected:
            rejected[row].update(record.reasons or ["unspecified"])
    for name, counts in rejected.items():
        classes[name]["rejected"] = dict(sorted(counts.items()))

    cells: dict[tuple[str, str, str], list[int]] = {}
    for item in items:
        done = item.id in accepted_items
        for factor, level in item.attributes.items():
            cell = cells.setdefault((row_of[item.id], factor, level), [0, 0])
            cell[0] += 1
            cell[1] += done
    return {
        "complete": bool(items) and len(accepted_items) == len(items),
        "stop_reason": stop_reason,
        "total": {
            "target": len(items),
            "accepted": len(accepted_items),
            "attempts": sum(c["attempts"] for c in classes.values()),
        },
        "classes": classes,
        "cells": [
            {"class": c, "factor": f, "level": lv, "target": t, "accepted": a}
            for (c, f, lv), (t, a) in sorted(cells.items())
        ],
    }


def shortfall(status: dict) -> list[str]:
    """Plain sentences naming every class and cell still short, and the main reasons."""
    lines = []
    for name, c in status["classes"].items():
        if c["accepted"] < c["target"]:
            top = sorted(c["rejected"].items(), key=lambda kv: -kv[1])[:3]
            why = ", ".join(f"{r} x{n}" for r, n in top) or "not attempted"
            lines.append(f"{name}: {c['accepted']}/{c['target']} accepted ({why})")
    for cell in status["cells"]:
        if cell["accepted"] < cell["target"]:
            lines.append(
                f"  {cell['class']} / {cell['factor']}={cell['level']}: "
                f"{cell['accepted']}/{cell['target']}"
            )
    return lines
