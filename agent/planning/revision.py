"""A plan revised after its build started: keep what still fits, re-label, drop the rest.

A person may change quotas or items after some images were accepted (`review` + `approve`
after a partial run). The revised plan is fitted to the images already accepted when it is
reviewed, so the review diff says what happens to them:

- kept: the plan still has a line with the image's id, class, split, identity and attributes;
- re-labelled: a line with the same class, identity and attributes (the same split first)
  takes over the image's id (and the seed and prompt it was drawn with), so the image counts
  for it; where the split differs the image moves to the line's split (not for identity
  datasets, whose splits are by person). The planner reassigns ids when quotas change, so
  most images that still fit are re-labelled rather than kept;
- dropped: nothing in the revised plan fits. At the next `run` its record becomes a rejection
  with reason `plan_revised` (the file stays, as every rejected image does) and it leaves
  the duplicate store.

`run` notices that the approved plan is not the one the build was running (the digest of
`plan.yaml` recorded at approval, `BuildState.plan_sha256`), applies the drops, and sends the
graph to `assess`, which schedules whatever the revised plan still lacks.
"""

from __future__ import annotations

from pathlib import Path

from agent.language.spec import DatasetSpec
from agent.planning.plan import Plan
from tools.contracts import ManifestRecord, PlanItem, Status
from tools.stores.manifest import Manifest

DROPPED = "plan_revised"
Key = tuple[str, str, str | None, tuple[tuple[str, str], ...]]


def key_of(item: PlanItem | ManifestRecord) -> Key:
    """What an image must share with a plan line to count for it as it is."""
    return (item.class_name, item.split, item.identity, tuple(sorted(item.attributes.items())))


def loose_key(item: PlanItem | ManifestRecord) -> Key:
    """What an image must share with a plan line to count for it after moving split: its
    pixels show the class and attributes; the split is only a label (kept for identities)."""
    split = item.split if item.identity is not None else "*"
    return (item.class_name, split, item.identity, tuple(sorted(item.attributes.items())))


def accepted_records(build_dir: str | Path) -> dict[str, ManifestRecord]:
    """item id -> its accepted record, for a build that has started (empty otherwise)."""
    path = Path(build_dir) / "manifest.sqlite"
    if not path.exists():
        return {}
    manifest = Manifest(path)
    try:
        return {r.item_id: r for r in manifest.records(Status.accepted)}
    finally:
        manifest.close()


def fit_to_accepted(
    plan: Plan, base: Plan | None, accepted: dict[str, ManifestRecord]
) -> tuple[Plan, list[str]]:
    """The plan with its lines fitted to the accepted images, and what that means in words."""
    if not accepted:
        return plan, []
    old = {it.id: it for it in base.items} if base is not None else {}
    items = list(plan.items)
    fixed: dict[int, str] = {  # index -> id it must keep (kept or adopted)
        i: item.id for i, item in enumerate(items)
        if item.id in accepted and key_of(accepted[item.id]) == key_of(item)
    }
    kept = len(fixed)
    taken = set(fixed.values())
    relabelled: list[str] = []
    waiting = [r for item_id, r in sorted(accepted.items()) if item_id not in taken]
    for keyed in (key_of, loose_key):  # the same split first, then any split
        free: dict[Key, list[int]] = {}
        for i, item in enumerate(items):
            if i not in fixed:
                free.setdefault(keyed(item), []).append(i)
        left = []
        for record in waiting:
            slots = free.get(keyed(record))
            if slots:
                _adopt(items, slots.pop(0), record, old, fixed, taken, relabelled)
            else:
                left.append(record)
        waiting = left
    dropped = [r.image_id for r in waiting]
    _unique_ids(items, fixed, taken)
    lines = [f"accepted images: {kept + len(relabelled)} still fit the revised plan "
             f"({len(relabelled)} re-labelled to another line), {len(dropped)} dropped "
             "(they fit no line)"]
    if relabelled:
        lines.append("re-labelled (each now fills a line of its class and attributes): "
                     + _listing(relabelled))
    if dropped:
        lines.append("dropped at the next run: " + _listing(dropped))
    return Plan(spec=plan.spec, seed=plan.seed, items=items), lines


def drawing_changes(old: DatasetSpec, new: DatasetSpec, accepted: int) -> list[str]:
    """A note when settings that shape pixels or verdicts change under accepted images: those
    images are not drawn or judged again."""
    fields = [f for f in ("image_size", "generation", "quality") if getattr(old, f) !=
              getattr(new, f)]
    if not accepted or not fields:
        return []
    return [f"note: the {accepted} accepted images stay as they were drawn and judged; the new "
            f"{', '.join(fields)} apply to images drawn from now on"]


def _adopt(
    items: list[PlanItem],
    i: int,
    record: ManifestRecord,
    old: dict[str, PlanItem],
    fixed: dict[int, str],
    taken: set[str],
    relabelled: list[str],
) -> None:
    """Line `i` takes over the accepted image of `record` (its id, seed, variation and
    prompt)."""
    item_id = record.item_id
    was = items[i]
    source = old.get(item_id)
    donor = source if source is not None and loose_key(source) == loose_key(was) else None
    items[i] = was.model_copy(update={
        "id": item_id,
        "seed": donor.seed if donor else record.seed,
        "variation": donor.variation if donor else record.variation,  # what the image shows
        "prompt": donor.prompt if donor else record.prompt,
        "negative_prompt": donor.negative_prompt if donor else was.negative_prompt,
        "guidance_scale": donor.guidance_scale if donor else was.guidance_scale,
    })
    fixed[i] = item_id
    taken.add(item_id)
    moved = f" ({record.split} -> {was.split})" if record.split != was.split else ""
    relabelled.append(f"{record.image_id}{moved}")


def _unique_ids(items: list[PlanItem], fixed: dict[int, str], taken: set[str]) -> None:
    """Lines whose id an adopted image now uses get a fresh id (the freed ids first)."""
    freed = sorted({it.id for i, it in enumerate(items) if i not in fixed} - taken)
    used = set(taken)
    for i, item in enumerate(items):
        if i in fixed:
            continue
        if item.id in used:
            new = next((f for f in freed if f not in used), None)
            n = 1
            while new is None or new in used:
                new, n = f"{item.class_name}-r{n:06d}", n + 1
            items[i] = item.model_copy(update={"id": new})
        used.add(items[i].id)


def _listing(names: list[str], limit: int = 12) -> str:
    more = f" ... and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
