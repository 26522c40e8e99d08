"""Identity metrics for identity datasets: how well one person's images hold together.

A face-recognition researcher judges a synthetic identity dataset by its *mated* scores (two
images of the same person) and *non-mated* scores (two different people), both cosine
similarities of a face descriptor (here dlib's 128-D ResNet descriptor), and by the false
non-match rate (FNMR) at a fixed false match rate (FMR), as in arXiv 2307.08585 and
2305.19962. This module computes those from descriptors and breaks them down by age-group gap
for aging datasets; the folder-per-identity layout and LFW-style pairs file that
face-recognition training and verification code reads are written by `identity_export`.

Conventions (the same as `tools.outputs.report_analysis.fnmr_at_fmr`): at an operating point a
pair *matches* when its similarity is above the threshold; the threshold for a target FMR is
the `1 - fmr` quantile of the non-mated scores, so at most that share of non-mated pairs match.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field, field_serializer

from tools.atomic import write_text
from tools.contracts import ManifestRecord, Status
from tools.errors import FacetoryError
from tools.vocabulary import FACTORS

#: Age groups in order; the gap between two images is the distance between their positions.
AGE_ORDER: tuple[str, ...] = FACTORS["age_group"]
DESCRIPTOR_NAME = "dlib_face_recognition_resnet_model_v1"
_SCORE_DIGITS = 5
_CHUNK = 65_536


@dataclass(frozen=True, eq=False)
class IdentitySample:
    """One accepted image of a synthetic person: its face descriptor and planned attributes."""

    image_id: str
    identity: str
    descriptor: np.ndarray
    attributes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "descriptor", np.asarray(self.descriptor, dtype=np.float32).ravel()
        )


class OperatingPoint(BaseModel):
    """FNMR at the threshold that gives a target FMR on the non-mated scores."""

    fmr: float
    """Target false match rate."""
    threshold: float | None = None
    fnmr: float | None = None
    achieved_fmr: float | None = None
    """Share of non-mated pairs above the threshold (at most `fmr`; less with ties)."""
    resolvable: bool = False
    """True when there are at least 1/fmr non-mated pairs, so the FMR can be measured."""


class ScoreSummary(BaseModel):
    """Location and spread of one score distribution."""

    count: int
    mean: float
    std: float
    min: float
    median: float
    max: float


class AgeGapMetrics(BaseModel):
    """Mated pairs whose age groups are `gap` steps apart (0: same age group)."""

    gap: int
    pairs: int
    mean_similarity: float | None = None
    operating_points: list[OperatingPoint] = Field(default_factory=list)
    """FNMR of these mated pairs at the dataset-wide thresholds."""


class IdentityStats(BaseModel):
    """One synthetic person: how close its images are to its anchor and how varied they are."""

    identity: str
    images: int
    anchor: str
    anchor_similarity_mean: float | None = None
    anchor_similarity_min: float | None = None
    diversity: float | None = None
    """Mean cosine distance (1 - similarity) between two of its images."""


class IdentityMetrics(BaseModel):
    """What `identity_metrics` measured; written to `DIR/metrics/identity.json`."""

    metric: str = "cosine"
    descriptor: str = DESCRIPTOR_NAME
    images: int = 0
    identities: int = 0
    mated_pairs_total: int = 0
    """Same-identity pairs in the data (`mated` holds all of them or a sample)."""
    non_mated_pairs_total: int = 0
    mated_summary: ScoreSummary | None = None
    non_mated_summary: ScoreSummary | None = None
    d_prime: float | None = None
    """Decidability: mean gap over the pooled standard deviation of the two distributions."""
    eer: float | None = None
    eer_threshold: float | None = None
    operating_points: list[OperatingPoint] = Field(default_factory=list)
    checker_threshold: float | None = None
    """The build's same-person threshold (similarity at or above it: same person)."""
    checker_fnmr: float | None = None
    checker_fmr: float | None = None
    anchor_similarity_mean: float | None = None
    anchor_similarity_min: float | None = None
    diversity_mean: float | None = None
    """Mean over identities of their intra-identity diversity."""
    age_gaps: list[AgeGapMetrics] = Field(default_factory=list)
    per_identity: list[IdentityStats] = Field(default_factory=list)
    mated: list[float] = Field(default_factory=list)
    non_mated: list[float] = Field(default_factory=list)

    @field_serializer("mated", "non_mated")
    def _round_scores(self, scores: list[float]) -> list[float]:
        return [round(float(s), _SCORE_DIGITS) for s in scores]

    def fnmr_at(self, fmr: float) -> float | None:
        """FNMR at the operating point for `fmr` (None if it was not computed)."""
        for point in self.operating_points:
            if math.isclose(point.fmr, fmr):
                return point.fnmr
        return None


# --------------------------------------------------------------------------- metrics


def identity_metrics(
    samples: Sequence[IdentitySample],
    *,
    fmrs: Sequence[float] = (0.01, 0.001),
    max_pairs: int = 200_000,
    seed: int = 0,
    threshold: float | None = None,
    anchors: Mapping[str, str] | None = None,
) -> IdentityMetrics:
    """Mated/non-mated scores, FNMR@FMR, anchor similarity, diversity and age-gap breakdown.

    Mated pairs are all same-identity pairs, or `max_pairs` of them drawn at random when there
    are more; non-mated pairs are all different-identity pairs or a random `max_pairs`.
    `threshold` is the build's same-person threshold: its FNMR and FMR are reported too.
    The anchor of an identity is `anchors[identity]` (an image id) when given, else its first
    sample: pass samples in the order they were accepted. Same inputs and seed, same result.
    """
    fmrs = _check_fmrs(fmrs)
    if max_pairs < 1:
        raise FacetoryError(f"max_pairs must be at least 1, got {max_pairs}")
    unit = _unit_descriptors(samples)
    names = [s.identity for s in samples]
    groups = _groups(names)
    rng = np.random.default_rng(seed)
    mated_total = sum(len(g) * (len(g) - 1) // 2 for g in groups.values())
    non_total = len(samples) * (len(samples) - 1) // 2 - mated_total
    mi, mj = _mated_pairs(groups, mated_total, max_pairs, rng)
    ni, nj = _non_mated_pairs(np.asarray(_codes(names)), non_total, max_pairs, rng)
    mated = _pair_scores(unit, mi, mj)
    non_mated = _pair_scores(unit, ni, nj)

    points = [_operating_point(mated, non_mated, f) for f in fmrs]
    eer, eer_thr = _eer(mated, non_mated)
    per_identity = _per_identity(unit, samples, groups, anchors or {})
    anchor_sims = np.concatenate(
        [_anchor_similarities(unit, samples, idx, anchors or {}) for idx in groups.values()]
        or [np.empty(0)]
    )
    diversities = [p.diversity for p in per_identity if p.diversity is not None]
    metrics = IdentityMetrics(
        images=len(samples),
        identities=len(groups),
        mated_pairs_total=mated_total,
        non_mated_pairs_total=non_total,
        mated_summary=_summary(mated),
        non_mated_summary=_summary(non_mated),
        d_prime=_d_prime(mated, non_mated),
        eer=eer,
        eer_threshold=eer_thr,
        operating_points=points,
        anchor_similarity_mean=_mean(anchor_sims),
        anchor_similarity_min=float(anchor_sims.min()) if anchor_sims.size else None,
        diversity_mean=float(np.mean(diversities)) if diversities else None,
        age_gaps=_age_gaps(samples, mi, mj, mated, points),
        per_identity=per_identity,
        mated=mated.tolist(),
        non_mated=non_mated.tolist(),
    )
    if threshold is not None:
        metrics.checker_threshold = float(threshold)
        metrics.checker_fnmr = float(np.mean(mated < threshold)) if mated.size else None
        metrics.checker_fmr = float(np.mean(non_mated >= threshold)) if non_mated.size else None
    return metrics


def fnmr_at_fmr(
    mated: Sequence[float] | np.ndarray, non_mated: Sequence[float] | np.ndarray, fmr: float
) -> OperatingPoint:
    """The operating point for one target FMR (see the module doc for the convention)."""
    (fmr,) = _check_fmrs([fmr])
    return _operating_point(
        np.asarray(mated, dtype=np.float64), np.asarray(non_mated, dtype=np.float64), fmr
    )


def write_identity_metrics(metrics: IdentityMetrics, path: str | Path) -> Path:
    """Write `metrics` as JSON atomically: the summary indented, the score lists one line each."""
    data = metrics.model_dump(mode="json")
    scores = {key: data.pop(key) for key in ("mated", "non_mated")}
    head = json.dumps(data, indent=2)
    tail = "".join(
        f',\n  "{key}": {json.dumps(values, separators=(",", ":"))}'
        for key, values in scores.items()
    )
    path = Path(path)
    write_text(path, head[:-2] + tail + "\n}\n")
    return path


def read_identity_metrics(path: str | Path) -> IdentityMetrics:
    """Read back what `write_identity_metrics` wrote."""
    try:
        return IdentityMetrics.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise FacetoryError(f"cannot read identity metrics {path}: {exc}") from exc
    except ValueError as exc:
        raise FacetoryError(f"{path} is not an identity metrics file: {exc}") from exc


def identity_samples(
    records: Iterable[ManifestRecord],
    *,
    base_dir: str | Path | None = None,
    descriptors: Mapping[str, Sequence[float] | np.ndarray] | None = None,
) -> list[IdentitySample]:
    """Samples of the accepted records that have an identity, in the records' order.

    A record's descriptor is taken from `descriptors` (image id -> vector, e.g. what the
    duplicate check stored) when there, else computed from its image and its first box
    (about 75 ms); a record with no box gets dlib's own detection.
    """
    descriptors = descriptors or {}
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    out = []
    for record in records:
        if record.status != Status.accepted or record.identity is None:
            continue
        vector = descriptors.get(record.image_id)
        if vector is None:
            vector = _descriptor_of(record, base)
        out.append(IdentitySample(record.image_id, record.identity, np.asarray(vector),
                                  dict(record.attributes)))
    return out


def _descriptor_of(record: ManifestRecord, base: Path) -> np.ndarray:
    from PIL import Image

    from tools.critic.faces import analyse
    from tools.stores.embed import face_descriptor

    path = Path(record.path) if Path(record.path).is_absolute() else base / record.path
    try:
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB"))
    except OSError as exc:
        raise FacetoryError(f"cannot read image {path}: {exc}") from exc
    if record.boxes:
        return face_descriptor(rgb, record.boxes[0])
    faces = analyse(rgb, expected=1, points=5)
    if not faces:
        raise FacetoryError(f"no face found in {path} to describe")
    return face_descriptor(rgb, faces[0].hog_box)


# --------------------------------------------------------------------------- internals


def _check_fmrs(fmrs: Sequence[float]) -> list[float]:
    out = [float(f) for f in fmrs]
    if not out or any(not 0.0 < f < 1.0 for f in out):
        raise FacetoryError(f"false match rates must be between 0 and 1 (exclusive), got {fmrs}")
    return out


def _unit_descriptors(samples: Sequence[IdentitySample]) -> np.ndarray:
    if not samples:
        raise FacetoryError("identity metrics need at least one sample")
    dims = {s.descriptor.shape[0] for s in samples}
    if len(dims) != 1:
        raise FacetoryError(f"descriptors have different lengths: {sorted(dims)}")
    matrix = np.stack([s.descriptor for s in samples]).astype(np.float64)
    norms = np.linalg.norm(matrix, axis=1)
    for sample, ok in zip(samples, np.isfinite(matrix).all(axis=1) & (norms > 1e-12), strict=True):
        if not ok:
            raise FacetoryError(f"descriptor of {sample.image_id} is zero, NaN or infinite")
        if not sample.identity:
            raise FacetoryError(f"sample {sample.image_id} has no identity")
    return matrix / norms[:, None]


def _groups(names: Sequence[str]) -> dict[str, np.ndarray]:
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(name, []).append(i)
    return {name: np.asarray(idx, dtype=np.int64) for name, idx in groups.items()}


def _codes(names: Sequence[str]) -> list[int]:
    index: dict[str, int] = {}
    return [index.setdefault(n, len(index)) for n in names]


def _mated_pairs(
    groups: Mapping[str, np.ndarray], total: int, max_pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    members = [idx for idx in groups.values() if len(idx) > 1]
    if total <= max_pairs:
        parts = [np.triu_indices(len(idx), 1) for idx in members]
        i = np.concatenate([idx[a] for idx, (a, _) in zip(members, parts, strict=True)])
        j = np.concatenate([idx[b] for idx, (_, b) in zip(members, parts, strict=True)])
        return i, j
    weights = np.array([len(idx) * (len(idx) - 1) / 2 for idx in members])
    counts = rng.multinomial(max_pairs, weights / weights.sum())
    i_parts, j_parts = [], []
    for idx, count in zip(members, counts, strict=True):
        a = rng.integers(0, len(idx), count)
        b = rng.integers(0, len(idx) - 1, count)
        b = b + (b >= a)
        i_parts.append(idx[np.minimum(a, b)])
        j_parts.append(idx[np.maximum(a, b)])
    return _unique_pairs(np.concatenate(i_parts), np.concatenate(j_parts))


def _non_mated_pairs(
    codes: np.ndarray, total: int, max_pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    n = len(codes)
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    if total <= max_pairs:
        i, j = np.triu_indices(n, 1)
        keep = codes[i] != codes[j]
        return i[keep].astype(np.int64), j[keep].astype(np.int64)
    found = np.empty(0, np.int64)
    while len(found) < max_pairs:
        a = rng.integers(0, n, 2 * max_pairs)
        b = rng.integers(0, n, 2 * max_pairs)
        keep = codes[a] != codes[b]
        lo, hi = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
        found = np.unique(np.concatenate([found, lo * n + hi]))
    chosen = np.sort(rng.choice(found, size=max_pairs, replace=False))
    return chosen // n, chosen % n


def _unique_pairs(i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = int(max(i.max(), j.max())) + 1
    codes = np.unique(i * n + j)
    return codes // n, codes % n


def _pair_scores(unit: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    out = np.empty(len(i), dtype=np.float64)
    for start in range(0, len(i), _CHUNK):
        a, b = i[start : start + _CHUNK], j[start : start + _CHUNK]
        out[start : start + _CHUNK] = np.einsum("ij,ij->i", unit[a], unit[b])
    return np.clip(out, -1.0, 1.0)


def _operating_point(mated: np.ndarray, non_mated: np.ndarray, fmr: float) -> OperatingPoint:
    if not non_mated.size:
        return OperatingPoint(fmr=fmr)
    threshold = float(np.quantile(non_mated, 1.0 - fmr, method="higher"))
    return OperatingPoint(
        fmr=fmr,
        threshold=threshold,
        fnmr=float(np.mean(mated <= threshold)) if mated.size else None,
        achieved_fmr=float(np.mean(non_mated > threshold)),
        resolvable=non_mated.size * fmr >= 1.0,
    )


def _eer(mated: np.ndarray, non_mated: np.ndarray) -> tuple[float | None, float | None]:
    """Equal error rate: where FNMR (mated at or below t) meets FMR (non-mated above t)."""
    if not mated.size or not non_mated.size:
        return None, None
    m, n = np.sort(mated), np.sort(non_mated)
    candidates = np.unique(np.concatenate([m, n]))
    fnmr = np.searchsorted(m, candidates, side="right") / m.size
    fmr = 1.0 - np.searchsorted(n, candidates, side="right") / n.size
    k = int(np.argmin(np.abs(fnmr - fmr)))
    return float((fnmr[k] + fmr[k]) / 2.0), float(candidates[k])


def _summary(scores: np.ndarray) -> ScoreSummary | None:
    if not scores.size:
        return None
    return ScoreSummary(
        count=int(scores.size), mean=float(scores.mean()), std=float(scores.std()),
        min=float(scores.min()), median=float(np.median(scores)), max=float(scores.max()),
    )


def _d_prime(mated: np.ndarray, non_mated: np.ndarray) -> float | None:
    if mated.size < 2 or non_mated.size < 2:
        return None
    pooled = math.sqrt((mated.var() + non_mated.var()) / 2.0)
    return float(abs(mated.mean() - non_mated.mean()) / pooled) if pooled > 0 else None


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def _anchor_index(
    samples: Sequence[IdentitySample], idx: np.ndarray, anchors: Mapping[str, str]
) -> int:
    wanted = anchors.get(samples[int(idx[0])].identity)
    for i in idx:
        if samples[int(i)].image_id == wanted:
            return int(i)
    return int(idx[0])


def _anchor_similarities(
    unit: np.ndarray, samples: Sequence[IdentitySample], idx: np.ndarray,
    anchors: Mapping[str, str],
) -> np.ndarray:
    anchor = _anchor_index(samples, idx, anchors)
    others = idx[idx != anchor]
    return np.clip(unit[others] @ unit[anchor], -1.0, 1.0)


def _per_identity(
    unit: np.ndarray, samples: Sequence[IdentitySample], groups: Mapping[str, np.ndarray],
    anchors: Mapping[str, str],
) -> list[IdentityStats]:
    stats = []
    for name, idx in groups.items():
        sims = _anchor_similarities(unit, samples, idx, anchors)
        diversity = None
        if len(idx) > 1:
            # mean pairwise cosine of unit vectors from their sum: O(n), not O(n^2)
            total = unit[idx].sum(axis=0)
            mean_cos = (float(total @ total) - len(idx)) / (len(idx) * (len(idx) - 1))
            diversity = 1.0 - mean_cos
        stats.append(IdentityStats(
            identity=name, images=len(idx),
            anchor=samples[_anchor_index(samples, idx, anchors)].image_id,
            anchor_similarity_mean=_mean(sims),
            anchor_similarity_min=float(sims.min()) if sims.size else None,
            diversity=diversity,
        ))
    return stats


def _age_gaps(
    samples: Sequence[IdentitySample], mi: np.ndarray, mj: np.ndarray, mated: np.ndarray,
    points: Sequence[OperatingPoint],
) -> list[AgeGapMetrics]:
    position = {level: k for k, level in enumerate(AGE_ORDER)}
    ages = np.array([position.get(s.attributes.get("age_group", ""), -1) for s in samples])
    if not (ages >= 0).any():
        return []
    known = (ages[mi] >= 0) & (ages[mj] >= 0)
    gaps = np.abs(ages[mi] - ages[mj])
    out = []
    for gap in range(len(AGE_ORDER)):
        scores = mated[known & (gaps == gap)]
        out.append(AgeGapMetrics(
            gap=gap, pairs=int(scores.size), mean_similarity=_mean(scores),
            operating_points=[
                point.model_copy(update={
                    "fnmr": float(np.mean(scores <= point.threshold))
                    if scores.size and point.threshold is not None else None,
                })
                for point in points
            ],
        ))
    return out
