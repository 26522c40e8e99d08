"""The compact item store of a large plan: items as columns in one binary file beside plan.yaml.

A person reviews a plan's summary, not two million item lines: written as YAML, a
2,000,000-image plan was two 966 MB files and took 6.9 GB to write, and approving a
200,000-image one took 6 minutes and 4.1 GB (parsing and validating every line). Above
`INLINE_MAX` items, plan.yaml keeps the summary, the balance and the spec (what a person edits)
and names this file and its sha256 instead of listing items; the file holds the plan's columns
(`agent.planning.plan.PlanColumns`) as zlib-compressed arrays, so reading it back makes no PlanItem
until
one is asked for.

The file is named by its content (`plan_items-<sha256 prefix>.bin`), so a plan.yaml always
names a file that exists, whatever moment a write was cut short at; the same plan gives the
same bytes. Editing it by hand is refused (its hash no longer matches): edit `spec:` instead.

Measured on the 2-core, 24 GB machine with the quickstart spec's factors and three classes of
N/3 (`quota:` edited in a YAML spec), peak RSS from
`/usr/bin/time -v python -m agent plan SPEC.yaml --out DIR --offline --json` and
`/usr/bin/time -v python -m agent approve DIR`:

    images       plan               approve            on disk
    200,001      6.7 s / 178 MB     5.0 s / 178 MB     5.5 MB
    2,000,001    23 s / 368 MB      8.4 s / 449 MB     25.6 MB
    9,999,999    97 s / 1.26 GB     21 s / 1.59 GB     110 MB

(Measured before plan ran through the graph's plan node; `run` and `status` still make every
PlanItem: a 200,001-item run peaked at 808 MB, `status` of 2,000,001 took 80 s and 3.6 GB.)

9,999,999 is the most a spec allows (`agent.language.spec.MAX_IMAGES`). Before: 2,000,000 images
took
6.9 GB to plan and 2 x 966 MB of YAML; 200,001 took 6 min 14 s and 4.1 GB to approve.

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
