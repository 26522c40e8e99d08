"""approval.json: a person accepted this plan.yaml and spec.yaml, byte for byte.

`run` starts only from an approved plan; an edit of either file after approval withdraws it
(the hashes no longer match), so nothing runs that a person did not see.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from agent.language.spec import SpecError
from agent.planning.plan import Plan
from agent.planning.plan_file import APPROVAL, BASE, read_spec
from agent.planning.plan_review import review_plan
from tools.atomic import write_text


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def plan_digest(build_dir: str | Path) -> str:
    """sha256 of plan.yaml as it is now: which plan a build is running."""
    return _sha256(Path(build_dir) / "plan.yaml")


def approve(build_dir: str | Path, *, plan: Plan | None = None) -> dict[str, Any]:
    """Record that a person accepted plan.yaml as it is now (it must be reviewed and valid).
    `plan`: the plan the caller holds; when plan.yaml is the one facetory last wrote, byte for
    byte, and spec.yaml holds its spec, it is not read and validated again."""
    root = Path(build_dir)
    if plan is None or not as_written(root, plan):
        result = review_plan(root, commit=False)
        if result.changed:
            raise SpecError(
                f"{root / result.edited} was edited since it was last reviewed: run "
                f"`facetory review {root}` to check and rebalance it, then approve"
            )
        plan = result.plan
    record = approval_record(root)
    record["items"] = len(plan.items)
    write_text(root / APPROVAL, json.dumps(record, indent=2) + "\n")
    return record


def as_written(build_dir: str | Path, plan: Plan) -> bool:
    """True when plan.yaml is the plan facetory last wrote (its base copy, byte for byte) and
    spec.yaml holds `plan`'s spec: nobody edited either since."""
    root = Path(build_dir)
    try:
        if (root / "plan.yaml").read_bytes() != (root / BASE).read_bytes():
            return False
        return read_spec(root / "spec.yaml") == plan.spec
    except (OSError, SpecError):
        return False


#: The files approval covers: everything that changes what a run makes.
APPROVED_FILES = ("plan.yaml", "spec.yaml")


def approval_record(build_dir: str | Path) -> dict[str, Any]:
    """What approval.json holds: the sha256 of every file in APPROVED_FILES as it is now."""
    root = Path(build_dir)
    record: dict[str, Any] = {"approved": True}
    for name in APPROVED_FILES:
        path = root / name
        record[f"{name.split('.')[0]}_sha256"] = _sha256(path) if path.exists() else None
    return record


def approval_problem(build_dir: str | Path) -> str | None:
    """Why `run` may not start from this plan (one line), or None when it is approved and
    neither plan.yaml nor spec.yaml changed since."""
    root = Path(build_dir)
    review = f"run `facetory review {root}` to check it, then `facetory approve {root}`"
    try:
        record = json.loads((root / APPROVAL).read_text(encoding="utf-8"))
        approved = bool(record.get("approved"))
    except (OSError, ValueError, AttributeError):
        record, approved = {}, False
    if not approved:
        return (
            f"the plan in {root / 'plan.yaml'} is not approved: review it, then "
            f"`facetory approve {root}` (or pass --yes)"
        )
    now = approval_record(root)
    for name in APPROVED_FILES:
        key = f"{name.split('.')[0]}_sha256"
        if record.get(key) != now[key]:
            return (
                f"the plan in {root} is not approved as it is now: {name} changed after "
                f"approval; {review}"
            )
    return None


def is_approved(build_dir: str | Path) -> bool:
    """True when approval.json matches plan.yaml and spec.yaml byte for byte."""
    return approval_problem(build_dir) is None
