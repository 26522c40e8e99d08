"""The build's records against its files, checked on every start: nothing lost, nothing unsafe.

`manifest.sqlite` is the record of truth. Before a run trusts it:

- a manifest that is missing or empty while `images/` holds pictures, or is not a readable
  database, is a one-line error that says how to recover (`workspace.open_manifest`, which
  opens it for `BuildContext`): the start-up clean-up removes image files no record names,
  so against a lost manifest it would delete every image;
- only files a stored work list planned (a batch cut short before its commit, which is drawn
  again identically) count as leftovers; any other file in `images/` is left where it is;
- recorded images whose files were deleted are drawn again from their work unit (same seed,
  prompt and attempt: the procedural renderer gives the same bytes; a diffusion model gives
  the same picture up to the rounding of a different batch shape); so are accepted images
  whose file no longer has the SHA-256 the manifest recorded (truncated, replaced);
- a lost `state.sqlite` (the checkpoints) is rebuilt from the manifest's work lists and
  records: the run continues at the first batch not committed instead of drawing every
  accepted image again as a duplicate of itself. A damaged one is an error: delete it and it
  is rebuilt.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from agent.runtime.context import BuildContext
from tools.atomic import file_sha256
from tools.build_dir import BuildPaths
from tools.contracts import Status
from tools.errors import FacetoryError


def check_manifest(ctx: BuildContext) -> None:
    """SQLite's quick check of the whole manifest file (a truncated copy fails it)."""
    try:
        problems = ctx.manifest.quick_check()
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    if problems != ["ok"]:
        raise FacetoryError(
            f"{ctx.paths.manifest_db} is damaged ({problems[0]}): restore it from a backup "
            "(facetory never deletes images it has no record of)"
        )


def state_store_error(paths: BuildPaths, exc: sqlite3.DatabaseError) -> FacetoryError:
    return FacetoryError(
        f"{paths.state_db} is not a readable checkpoint store ({exc}): delete it and run "
        f"again; facetory rebuilds the build's progress from {paths.manifest_db.name}"
    )


def leftover_images(ctx: BuildContext) -> tuple[list[Path], list[Path]]:
    """(files to remove, files to keep): image files no record names, split into those a
    stored work list planned (a batch killed before its commit) and anything else."""
    recorded = {(ctx.paths.root / p).resolve() for p in ctx.manifest.paths()}
    unrecorded = [
        p for p in ctx.paths.images.rglob("*") if p.is_file() and p.resolve() not in recorded
    ]
    if not unrecorded:
        return [], []
    planned = ctx.manifest.planned_image_ids({p.stem for p in unrecorded})
    remove = [p for p in unrecorded if p.stem in planned]
    keep = [p for p in unrecorded if p.stem not in planned]
    return remove, keep


def damaged_accepted(ctx: BuildContext) -> list[str]:
    """Accepted images whose file no longer matches the manifest: a SHA-256 that differs, or,
    where none is recorded yet (a manifest from before checksums, an image a person
    accepted), a file that is not a whole image of its kind; those are recorded now. Only
    accepted images are read: what an export and training take."""
    damaged, learnt = [], {}
    for image_id, (path, digest) in ctx.manifest.accepted_files().items():
        file = ctx.paths.root / path
        if not file.is_file():
            continue  # drawn again as missing
        actual = file_sha256(file)
        if digest is not None:
            if actual != digest:
                damaged.append(image_id)
        elif _whole_image(file):
            learnt[image_id] = actual
        else:
            damaged.append(image_id)
    if learnt:
        ctx.manifest.set_checksums(learnt)
    return damaged


def _whole_image(path: Path) -> bool:
    """The file decodes completely as the format its name says (a truncated PNG, or a JPEG
    renamed .png, does not)."""
    from PIL import Image

    expected = Image.registered_extensions().get(path.suffix.lower())
    try:
        with Image.open(path) as image:
            if expected is not None and image.format != expected:
                return False
            image.load()
    except (OSError, SyntaxError, ValueError):
        return False
    return True


def redraw_missing(ctx: BuildContext, damaged: list[str] = ()) -> list[str]:
    """Draw again every recorded image whose file is gone, and the `damaged` ones (their
    file replaced); returns their image ids. The accepted ones' checksums are recorded anew."""
    from agent.runtime.nodes.generate import draw

    missing = [
        image_id
        for image_id, path in ctx.manifest.image_paths().items()
        if not (ctx.paths.root / path).is_file()
    ]
    missing = sorted({*missing, *damaged})
    if not missing:
        return []
    units = ctx.manifest.work_units(missing)
    drawable = [u for u in units.values() if u.item_id in ctx.items]
    if len(drawable) < len(missing):
        lost = sorted(set(missing) - {u.image_id for u in drawable})
        raise FacetoryError(
            f"{len(lost)} recorded image(s) are missing on disk and cannot be drawn again "
            f"(their work unit or plan item is gone), e.g. {lost[0]}: restore them from a backup"
        )
    draw(ctx, sorted(drawable, key=lambda u: u.image_id))
    accepted = ctx.manifest.accepted_files()
    ctx.manifest.set_checksums({
        i: file_sha256(ctx.paths.root / accepted[i][0]) for i in missing if i in accepted
    })
    return [u.image_id for u in drawable]


def rebuilt_state(ctx: BuildContext) -> dict[str, Any] | None:
    """The graph state a build had, read back from the manifest (None: it never started).

    The latest round with a work list, and in it the first batch not wholly committed:
    batches are slices of `batch_size` from the start of the round and commit whole, so the
    run continues exactly where the lost checkpoints would have.
    """
    if not ctx.paths.manifest_db.exists():
        return None  # never opened here: opening creates it, and a plan has none yet
    rounds = ctx.manifest.rounds()
    if not rounds:
        return None
    round_ = rounds[-1]
    units = ctx.manifest.work(round_)
    records = ctx.manifest.get(u.image_id for u in units)
    done = 0
    for unit in units:
        record = records.get(unit.image_id)
        if record is None or record.status is Status.pending:
            break
        done += 1
    batch = ctx.spec.budget.batch_size
    cursor = done if done == len(units) else done // batch * batch
    return {"approved": True, "round": round_, "cursor": cursor, "batch": []}
