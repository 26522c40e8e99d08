"""The plan as the review page shows it, and the page's quota and proportion edits.

Only the head of plan.yaml (everything above `items:`: summary, balance, spec, and the
requirement trace when present) is read to draw the page: 12 ms for a 10,000-image plan, where
validating every item takes about 4 s (bench/bench_web.py). Edits become a new `spec:` section;
edits, feedback and approval answer the review through `agent.runtime.review_answer`, the one
function every command answers it with, so the page and the commands never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from agent.language.safety import check_request
from agent.language.spec import DatasetSpec, dump_yaml, validation_message
from agent.planning.plan_review import Review, review_plan
from tools.errors import FacetoryError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ITEMS = "\nitems:\n"
_SPEC = "\nspec:\n"
_DIGEST = "\nitems_sha256: "


@dataclass
class PlanHead:
    """plan.yaml without its item lines."""

    spec: DatasetSpec
    summary: dict[str, Any]
    balance: dict[str, Any]
    understood: str = ""
    requirements: list[dict[str, Any]] = field(default_factory=list)


def read_head(path: Path) -> PlanHead:
    """Parse the part of plan.yaml above the items (a FacetoryError when it is unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FacetoryError(f"cannot read {path}: {exc.strerror}") from None
    head = text.split(_ITEMS, 1)[0]
    try:
        data = yaml.load(head, Loader=_Loader)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("spec"), dict):
        raise FacetoryError(f"{path} is not a plan facetory can read: run `facetory review`")
    try:
        spec = DatasetSpec.model_validate(data["spec"])
    except ValidationError as exc:
        raise FacetoryError(f"{path}: spec.{validation_message(exc)}") from None
    reqs = data.get("requirements")
    return PlanHead(
        spec=spec,
        summary=data.get("summary") or {},
        balance=data.get("balance") or {},
        understood=str(data.get("understood") or ""),
        requirements=[_requirement(r) for r in reqs] if isinstance(reqs, list) else [],
    )


def _requirement(raw: Any) -> dict[str, Any]:
    """One row of the requirement trace, tolerant of missing keys."""
    raw = raw if isinstance(raw, dict) else {"asked": str(raw)}
    flags = raw.get("flags") or []
    return {
        "asked": str(raw.get("asked", "")),
        "drawn_by": str(raw.get("drawn_by", "") or ""),
        "checked_by": str(raw.get("checked_by", "") or ""),
        "flags": [str(f) for f in (flags if isinstance(flags, list) else [flags])],
    }


def factor_tables(head: PlanHead) -> list[dict[str, Any]]:
    """Per varied factor: levels x classes counts with the target share (as `facetory review`)."""
    summary, spec = head.summary, head.spec
    classes = list(summary.get("classes", {}))
    per_class = summary.get("per_class", {})
    tables = []
    for f in spec.factors:
        targets = f.targets()
        rows = []
        for level in f.level_names():
            counts = [per_class.get(c, {}).get(f.name, {}).get(level, 0) for c in classes]
            rows.append({"level": level, "counts": counts, "share": targets.get(level, 0.0),
                         "given": next((lv.proportion for lv in f.levels if lv.name == level),
                                       None)})
        fixed = [c for c in classes if f.name in (spec.class_spec(c).attributes or {})]
        tables.append({"factor": f.name, "scope": f.scope, "balanced": f.balanced,
                       "numeric": f.numeric is not None, "rows": rows, "fixed_in": fixed})
    return tables


# --- edits --------------------------------------------------------------------------------


class EditErrors(FacetoryError):
    """An edit that changes nothing: field name -> the problem, shown beside the field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def edited_spec(spec: DatasetSpec, form: dict[str, str]) -> DatasetSpec:
    """The spec with the form's quotas (`quota:CLASS`), descriptions (`description:CLASS`) and
    level shares in percent (`share:FACTOR:LEVEL`, blank: share what is left) applied."""
    errors: dict[str, str] = {}
    data = spec.model_dump(mode="json")
    for c in data["classes"]:
        _edit_class(c, form, errors)
    for f in data["factors"]:
        if not f.get("numeric") and any(f"share:{f['name']}:{lv['name']}" in form
                                         for lv in f["levels"]):
            _edit_shares(f, spec, form, errors)
    if errors:
        raise EditErrors(errors)
    try:
        new = DatasetSpec.model_validate(data)
    except ValidationError as exc:
        found: dict[str, str] = {}
        for err in exc.errors():
            message = str(err["msg"]).removeprefix("Value error, ")
            found.setdefault(_field_of(err["loc"], data), message)
        raise EditErrors(found) from None
    for c in new.classes:
        old_c = spec.class_spec(c.name)
        if old_c is None or old_c.description != c.description:
            try:
                check_request(c.description, new)
            except FacetoryError as exc:
                raise EditErrors({f"description:{c.name}": str(exc)}) from None
    return new


def _edit_class(c: dict[str, Any], form: dict[str, str], errors: dict[str, str]) -> None:
    """A class's quota and description from the form (spec data, changed in place)."""
    key = f"quota:{c['name']}"
    if key in form:
        try:
            c["quota"] = int(form[key].strip().replace(",", ""))
        except ValueError:
            errors[key] = f"'{form[key]}' is not a whole number"
    key = f"description:{c['name']}"
    if key in form:
        c["description"] = " ".join(form[key].split())


def _edit_shares(f: dict[str, Any], spec: DatasetSpec, form: dict[str, str],
                 errors: dict[str, str]) -> None:
    """A factor's level shares from the form (spec data, changed in place): set, it is no
    longer balanced evenly; unchanged shares leave it as it was."""
    shares: list[float | None] = []
    for lv in f["levels"]:
        raw = form.get(f"share:{f['name']}:{lv['name']}", "").strip().rstrip("%")
        try:
            shares.append(float(raw) / 100 if raw else None)
        except ValueError:
            errors[f"share:{f['name']}:{lv['name']}"] = f"'{raw}' is not a percentage"
            shares.append(None)
    old = spec.factor(f["name"])
    pairs = list(zip(shares, f["levels"], strict=True))
    if old is not None and all(s is None or abs(s - old.targets()[lv["name"]]) < 5e-4
                               for s, lv in pairs):
        return
    bad = [lv["name"] for s, lv in pairs if s is not None and not 0 <= s <= 1]
    if bad:
        errors[f"factor:{f['name']}"] = f"{bad[0]}: a share is between 0% and 100%"
        return
    f["balanced"] = False
    for s, lv in pairs:
        lv["proportion"] = s


def _field_of(where: tuple, data: dict[str, Any]) -> str:
    """The form field a pydantic error belongs to (quota:CLASS, factor:FACTOR, or form)."""
    loc = [p for p in where if not str(p).startswith("function-")]
    if len(loc) >= 2 and loc[0] == "classes" and isinstance(loc[1], int):
        name = data["classes"][loc[1]]["name"]
        return f"description:{name}" if "description" in loc else f"quota:{name}"
    if len(loc) >= 2 and loc[0] == "factors" and isinstance(loc[1], int):
        return f"factor:{data['factors'][loc[1]]['name']}"
    return "form"


def plan_text_with_spec(text: str, spec: DatasetSpec) -> str:
    """plan.yaml's text with its `spec:` section replaced (everything else byte for byte)."""
    try:
        before, rest = text.split(_SPEC, 1)
        after = rest[rest.index(_DIGEST):]
    except ValueError:
        raise FacetoryError(
            "plan.yaml is laid out by hand: run `facetory review DIR` once, then edit here"
        ) from None
    return before + "\n" + dump_yaml({"spec": spec.model_dump(mode="json")}) + after[1:]


def apply_edit(root: Path, form: dict[str, str]) -> Review:
    """Validate the form's edit in memory, then answer the review with it as `facetory review`
    answers a hand edit (`agent.runtime.review_answer.answer_review`). Raises EditErrors and
    writes nothing when invalid; the caller must not hold the build lock (the graph takes it)."""
    from agent.runtime.lock import BuildLock
    from agent.runtime.review_answer import answer_review
    from agent.runtime.session import open_build
    from tools.atomic import write_text

    path = root / "plan.yaml"
    head = read_head(path)
    spec = edited_spec(head.spec, form)
    if spec == head.spec:
        return Review(plan=None, changed=False, kind="none")  # type: ignore[arg-type]
    text = plan_text_with_spec(path.read_text(encoding="utf-8"), spec)
    try:
        review_plan(root, text=text, commit=False)  # an invalid edit stops here, unwritten
    except FacetoryError as exc:  # e.g. an infeasible combination
        raise EditErrors({"form": str(exc)}) from None
    with BuildLock(root):  # a build that started since the page was drawn refuses the write
        write_text(path, text)
    return answer_review(open_build(root), {"action": "edit"}).review


def feedback(root: Path, text: str) -> list[str]:
    """The web review's feedback form: answered as `facetory review --feedback` answers it."""
    from agent.runtime.review_answer import answer_review
    from agent.runtime.session import open_build

    return answer_review(open_build(root), {"action": "feedback", "text": text}).changes


def approve(root: Path) -> int:
    """The web review's approve button, as `facetory approve`: how many items were approved."""
    from agent.runtime.review_answer import answer_review
    from agent.runtime.session import open_build

    return answer_review(open_build(root, offline=True), {"action": "approve"}).items
