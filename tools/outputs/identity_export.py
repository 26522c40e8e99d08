"""The face-recognition export of an identity dataset: a folder per identity and pairs files.

Face-recognition training code reads one folder of images per person, and verification code
reads an LFW-style pairs file (mated pairs `name i j`, non-mated `name1 i name2 j`, image
numbers 1-based within each identity's sorted files). Kept apart from `identity_metrics`,
which measures the same people: this module only lays out files and draws pairs, and never
looks at a descriptor.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np

from tools.atomic import link_or_copy, replace_dir, temp_dir_beside, write_text
from tools.contracts import ManifestRecord, Status
from tools.errors import FacetoryError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class _Named(Protocol):
    image_id: str
    identity: str | None


def identity_numbering(samples: Iterable[_Named]) -> dict[str, list[str]]:
    """identity -> its image ids in file order (sorted), so number k is the k-th (1-based)."""
    groups: dict[str, list[str]] = {}
    for sample in samples:
        if sample.identity is None:
            continue
        groups.setdefault(sample.identity, []).append(sample.image_id)
    for identity, ids in groups.items():
        if len(set(ids)) != len(ids):
            raise FacetoryError(f"identity {identity!r} lists the same image id twice")
    return {identity: sorted(ids) for identity, ids in sorted(groups.items())}


def write_pairs(
    samples: Iterable[_Named],
    path: str | Path,
    *,
    mated: int = 3000,
    non_mated: int | None = None,
    folds: int = 1,
    seed: int = 0,
    names: Mapping[str, str] | None = None,
) -> tuple[int, int]:
    """Write a verification pairs file in the LFW protocol format; returns (mated, non_mated).

    Line 1 is `folds<TAB>n`, then each fold lists n mated pairs `name<TAB>i<TAB>j` followed by
    n non-mated pairs `name1<TAB>i<TAB>name2<TAB>j`, image numbers 1-based within each identity
    (files sorted by image id, as `export_identity_folders` names them). When fewer pairs
    exist than asked for, both kinds shrink to the same count; if `non_mated` differs from
    `mated` the header is `folds<TAB>n_mated<TAB>n_non_mated`. `names` maps identities to the
    folder names used in the file (default: the identity made file-safe). Pairs are drawn at
    random without repetition, sorted within each block, and depend only on inputs and seed.
    """
    groups = identity_numbering(samples)
    names = dict(names or {identity: safe_name(identity) for identity in groups})
    unnamed = sorted(set(groups) - set(names))
    if unnamed:
        raise FacetoryError(f"pairs: no folder name for identities {', '.join(unnamed[:5])}")
    non_mated = mated if non_mated is None else non_mated
    if folds < 1 or mated < 0 or non_mated < 0:
        raise FacetoryError("pairs: folds must be at least 1 and pair counts not negative")
    if len(set(names.values())) != len(names):
        raise FacetoryError("two identities have the same folder name; rename one")
    sizes = {identity: len(ids) for identity, ids in groups.items()}
    rng = np.random.default_rng(seed)
    same = _sample_mated_numbers(sizes, mated, rng)
    diff = _sample_non_mated_numbers(sizes, non_mated, rng)
    balanced = mated == non_mated
    if balanced:
        same, diff = same[: min(len(same), len(diff))], diff[: min(len(same), len(diff))]
    per_same, per_diff = len(same) // folds, len(diff) // folds
    header = f"{folds}\t{per_same}" if balanced else f"{folds}\t{per_same}\t{per_diff}"
    lines = [header]
    for fold in range(folds):
        block = sorted(same[fold * per_same : (fold + 1) * per_same])
        lines += [f"{names[a]}\t{i}\t{j}" for a, i, j in block]
        block = sorted(diff[fold * per_diff : (fold + 1) * per_diff])
        lines += [f"{names[a]}\t{i}\t{names[b]}\t{j}" for a, i, b, j in block]
    write_text(path, "\n".join(lines) + "\n")
    return per_same * folds, per_diff * folds


def export_identity_folders(
    records: Iterable[ManifestRecord],
    out_dir: str | Path,
    *,
    base_dir: str | Path,
    pairs: int = 3000,
    seed: int = 0,
) -> Path:
    """A folder per identity of its accepted images, plus LFW-style pairs files.

    Layout: `out_dir/<identity>/<identity>_0001.png` (images sorted by image id, hard-linked
    from the build, copied when linking is impossible), `pairs.txt` over all identities,
    `pairs_<split>.txt` for each split with two or more identities (verify on identities the
    model never trained on), and `identities.tsv` (identity, folder, split, images). Built in a
    temporary folder and swapped in whole; the same records give the same files.
    """
    base = Path(base_dir).resolve()
    out_dir = Path(out_dir).resolve()
    accepted = [r for r in records if r.status == Status.accepted and r.identity is not None]
    if not accepted:
        raise FacetoryError("no accepted images with an identity to export")
    groups = identity_numbering(accepted)
    by_id = {r.image_id: r for r in accepted}
    folder = {identity: safe_name(identity) for identity in groups}
    if len(set(folder.values())) != len(folder):
        raise FacetoryError("two identities have the same folder name once made file-safe")
    split_of: dict[str, str] = {}
    for identity, ids in groups.items():
        splits = sorted({by_id[i].split for i in ids})
        if len(splits) > 1:
            raise FacetoryError(
                f"identity {identity!r} is in several splits ({', '.join(splits)}); "
                "identity datasets must split by identity"
            )
        split_of[identity] = splits[0]

    tmp = temp_dir_beside(out_dir)
    try:
        rows = ["identity\tfolder\tsplit\timages"]
        for identity, ids in groups.items():
            for k, image_id in enumerate(ids, start=1):
                source = _source(by_id[image_id], base)
                name = f"{folder[identity]}_{k:04d}{source.suffix}"
                link_or_copy(source, tmp / folder[identity] / name)
            rows.append(f"{identity}\t{folder[identity]}\t{split_of[identity]}\t{len(ids)}")
        write_text(tmp / "identities.tsv", "\n".join(rows) + "\n")
        write_pairs(accepted, tmp / "pairs.txt", mated=pairs, seed=seed, names=folder)
        for split in sorted(set(split_of.values())):
            members = [r for r in accepted if split_of[r.identity or ""] == split]
            if len({r.identity for r in members}) >= 2:
                write_pairs(members, tmp / f"pairs_{split}.txt", mated=pairs, seed=seed,
                            names={i: folder[i] for i in {r.identity for r in members}})
        replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def safe_name(identity: str) -> str:
    """A file-system-safe folder name for an identity."""
    return _UNSAFE.sub("_", identity).strip("._") or "identity"


# --------------------------------------------------------------------------- internals


def _sample_mated_numbers(
    sizes: Mapping[str, int], count: int, rng: np.random.Generator
) -> list[tuple[str, int, int]]:
    """`count` distinct (identity, i, j) with 1 <= i < j <= size, uniform over all such."""
    names = [n for n in sizes if sizes[n] > 1]
    totals = np.array([sizes[n] * (sizes[n] - 1) // 2 for n in names], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(totals)])
    if count <= 0 or not names:
        return []
    picks = _distinct(int(offsets[-1]), count, rng)
    out = []
    for code in picks:
        k = int(np.searchsorted(offsets, code, side="right")) - 1
        i, j = _pair_from_rank(int(code - offsets[k]), sizes[names[k]])
        out.append((names[k], i + 1, j + 1))
    return out


def _sample_non_mated_numbers(
    sizes: Mapping[str, int], count: int, rng: np.random.Generator
) -> list[tuple[str, int, str, int]]:
    """`count` distinct (identity a, i, identity b, j) with a < b, uniform over images."""
    names = sorted(sizes)
    weights = np.array([sizes[n] for n in names], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(weights)])
    n_images = int(starts[-1])
    total = (n_images * n_images - int((weights**2).sum())) // 2
    if count <= 0 or total <= 0:
        return []
    count = min(count, total)
    seen: set[tuple[int, int]] = set()
    out = []
    while len(out) < count:
        a, b = rng.integers(0, n_images, 2)
        ka = int(np.searchsorted(starts, a, side="right")) - 1
        kb = int(np.searchsorted(starts, b, side="right")) - 1
        if ka == kb:
            continue
        if ka > kb:
            a, b, ka, kb = b, a, kb, ka
        if (int(a), int(b)) in seen:
            continue
        seen.add((int(a), int(b)))
        out.append((names[ka], int(a - starts[ka]) + 1, names[kb], int(b - starts[kb]) + 1))
    return out


def _distinct(total: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """`min(count, total)` distinct integers in [0, total), in random order."""
    count = min(count, total)
    if total <= 4 * count or total <= 1_000_000:
        return rng.permutation(total)[:count]
    picks: list[int] = []
    seen: set[int] = set()
    while len(picks) < count:
        for value in rng.integers(0, total, count).tolist():
            if value not in seen:
                seen.add(value)
                picks.append(value)
                if len(picks) == count:
                    break
    return np.asarray(picks, dtype=np.int64)


def _pair_from_rank(rank: int, size: int) -> tuple[int, int]:
    """The rank-th pair (i, j), i < j, in row order of the upper triangle of size x size."""
    i = 0
    while rank >= size - 1 - i:
        rank -= size - 1 - i
        i += 1
    return i, i + 1 + rank


def _source(record: ManifestRecord, base: Path) -> Path:
    path = Path(record.path)
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise FacetoryError(f"image of {record.image_id} is missing: {path}")
    return path
