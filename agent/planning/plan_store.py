"""The compact item store of a large plan: items as columns in one binary file beside plan.yaml.

A person reviews a plan's summary, not two million item lines, and a plan of millions of items
written as YAML takes gigabytes to write and minutes to validate (bench/RESULTS.md). Above
`INLINE_MAX` items, plan.yaml keeps the summary, the balance and the spec (what a person edits)
and names this file and its sha256 instead of listing items; the file holds the plan's columns
(`agent.planning.plan.PlanColumns`) as zlib-compressed arrays, so reading it back makes no
PlanItem until one is asked for.

The file is named by its content (`plan_items-<sha256 prefix>.bin`), so a plan.yaml always
names a file that exists, whatever moment a write was cut short at; the same plan gives the
same bytes. Editing it by hand is refused (its hash no longer matches): edit `spec:` instead.

9,999,999 is the most a spec allows (`agent.language.spec.MAX_IMAGES`); bench/RESULTS.md has
the time and memory plan and approve take up to there.

Format: the line `facetory-items/1`, one line of JSON (names, levels, the prompt table and
each array's dtype and shape), then each array's compressed bytes, in the order the JSON lists.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path

import numpy as np

from agent.language.spec import SpecError
from agent.planning.plan import PlanColumns
from tools.atomic import write_bytes

INLINE_MAX = 50_000
"""Plans up to this many items list them in plan.yaml, one editable line each (about 25 MB
at 50,000 items; the GANDiffFace-sized 25,000-image requests stay editable line by line)."""
MAGIC = b"facetory-items/1\n"
PREFIX = "plan_items-"
_ARRAYS = ("class_index", "number", "codes", "identity", "split", "seed", "faces", "prompt")


def encode(cols: PlanColumns) -> bytes:
    """The store's bytes for a plan's columns (deterministic)."""
    arrays = [np.ascontiguousarray(getattr(cols, name)) for name in _ARRAYS]
    blobs = [zlib.compress(a.tobytes(), 6) for a in arrays]
    meta = {
        "class_names": cols.class_names,
        "class_slugs": cols.class_slugs,
        "attr_names": cols.attr_names,
        "attr_levels": cols.attr_levels,
        "identity_names": cols.identity_names,
        "prompts": [list(p) for p in cols.prompt_table()],
        "ids": cols.ids,
        "guidance": cols.guidance,
        "width": cols.width,
        **({"vary": True} if cols.vary else {}),
        "arrays": [
            {"name": n, "dtype": a.dtype.str, "shape": list(a.shape), "bytes": len(b)}
            for n, a, b in zip(_ARRAYS, arrays, blobs, strict=True)
        ],
    }
    head = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    return MAGIC + head + b"".join(blobs)


def write_store(cols: PlanColumns, folder: Path) -> tuple[str, str]:
    """Write the store into `folder`; returns (file name, sha256 of its bytes)."""
    data = encode(cols)
    digest = hashlib.sha256(data).hexdigest()
    name = f"{PREFIX}{digest[:16]}.bin"
    if not (folder / name).exists():
        write_bytes(folder / name, data)
    return name, digest


def read_store(path: Path, sha256: str, where: str) -> PlanColumns:
    """The columns in the store at `path`; a missing, edited or malformed file is a SpecError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(
            f"{where}: cannot read its item store {path.name}: {exc.strerror}"
        ) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise SpecError(
            f"{where}: its item store {path.name} was changed (sha256 differs); it is written "
            "by facetory: edit class quotas and proportions under spec: instead, then review"
        )
    try:
        if not data.startswith(MAGIC):
            raise ValueError("not a facetory item store")
        end = data.index(b"\n", len(MAGIC))
        meta = json.loads(data[len(MAGIC) : end])
        offset = end + 1
        arrays = {}
        for spec in meta["arrays"]:
            raw = zlib.decompress(data[offset : offset + spec["bytes"]])
            offset += spec["bytes"]
            arrays[spec["name"]] = np.frombuffer(raw, dtype=spec["dtype"]).reshape(spec["shape"])
    except (ValueError, KeyError, zlib.error) as exc:
        raise SpecError(f"{where}: its item store {path.name} is malformed ({exc})") from None
    return PlanColumns(
        class_names=meta["class_names"],
        class_slugs=meta["class_slugs"],
        attr_names=meta["attr_names"],
        attr_levels=meta["attr_levels"],
        identity_names=meta["identity_names"],
        prompts=[(p, n) for p, n in meta["prompts"]],
        ids=meta["ids"],
        guidance=meta["guidance"],
        width=meta["width"],
        vary=bool(meta.get("vary", False)),
        **arrays,
    )


def remove_unused(folder: Path, keep: set[str]) -> None:
    """Delete item stores of earlier plans that no plan file names any more."""
    for path in folder.glob(f"{PREFIX}*.bin"):
        if path.name not in keep:
            path.unlink(missing_ok=True)
