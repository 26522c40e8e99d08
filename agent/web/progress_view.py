"""Where a build stands, for the build page and its live stream: per class and per cell.

Targets come from the plan's summary (no item is read); counts come from SQL aggregates over
the manifest, so one update costs milliseconds even for 10,000 images.
"""

from __future__ import annotations

from typing import Any

from agent.web.plan_view import PlanHead
from agent.wording import build_state
from tools.stores.manifest import Manifest


def progress(head: PlanHead, manifest: Manifest | None, *, running: bool) -> dict[str, Any]:
    """classes: target/accepted/rejected/duplicates/attempts; cells: class x factor x level."""
    summary = head.summary
    counts = manifest.class_counts() if manifest is not None else {}
    cells_done = manifest.accepted_cells() if manifest is not None else {}
    queued = len(manifest.human_verdicts("queued")) if manifest is not None else 0
    classes = []
    for name, target in summary.get("classes", {}).items():
        c = counts.get(name, {})
        classes.append({
            "name": name, "target": target, "accepted": c.get("accepted", 0),
            "rejected": c.get("rejected", 0), "duplicates": c.get("duplicate", 0),
            "pending": c.get("pending", 0), "attempts": sum(c.values()),
        })
    cells = []
    for name, table in summary.get("per_class", {}).items():
        for factor, levels in table.items():
            if len([n for n in levels.values() if n]) < 2:
                continue
            for level, target in levels.items():
                if target:
                    cells.append({"class": name, "factor": factor, "level": level,
                                  "target": target,
                                  "accepted": cells_done.get((name, factor, level), 0)})
    total = sum(c["target"] for c in classes)
    accepted = sum(min(c["accepted"], c["target"]) for c in classes)
    attempts = sum(c["attempts"] for c in classes)
    return {"running": running, "total": total, "accepted": accepted, "attempts": attempts,
            "state": build_state(running=running, attempts=attempts, accepted=accepted,
                                 target=total),
            "classes": classes, "cells": cells, "queued_verdicts": queued}
