"""Identity metrics: mated/non-mated scores, FNMR@FMR, age gaps, anchors, the metrics file."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from PIL import Image

from tests.tools.outputs.synthetic_people import people
from tools.contracts import ManifestRecord, PlanItem, Status
from tools.errors import FacetoryError
from tools.outputs.identity_metrics import (
    AGE_ORDER,
    IdentitySample,
    fnmr_at_fmr,
    identity_metrics,
    identity_samples,
    read_identity_metrics,
    write_identity_metrics,
)
from tools.outputs.report_analysis import fnmr_at_fmr as report_fnmr_at_fmr


def brute_force(samples):
    """Every pair's cosine similarity, split into mated and non-mated."""
    mated, non_mated = [], []
    for a, b in itertools.combinations(samples, 2):
        cos = float(a.descriptor @ b.descriptor
                    / np.linalg.norm(a.descriptor) / np.linalg.norm(b.descriptor))
        (mated if a.identity == b.identity else non_mated).append(cos)
    return np.array(mated), np.array(non_mated)


def test_separable_people_give_all_pairs_and_low_fnmr():
    samples = people(12, 5, spread=0.4)
    metrics = identity_metrics(samples, threshold=0.82)
    mated, non_mated = brute_force(samples)

    assert metrics.images == 60 and metrics.identities == 12
    assert metrics.mated_pairs_total == 12 * 10 == len(metrics.mated)
    assert metrics.non_mated_pairs_total == 60 * 59 // 2 - 120 == len(metrics.non_mated)
    assert sorted(metrics.mated) == pytest.approx(sorted(mated), abs=1e-6)
    assert sorted(metrics.non_mated) == pytest.approx(sorted(non_mated), abs=1e-6)
    assert metrics.mated_summary.mean > 0.8 > 0.2 > abs(metrics.non_mated_summary.mean)
    assert metrics.d_prime > 5
    point = metrics.operating_points[0]
    assert point.fmr == 0.01 and point.resolvable and point.fnmr == 0.0
    assert point.achieved_fmr <= 0.01
    # the 0.001 point needs 1,000 non-mated pairs and has 1,650
    assert metrics.operating_points[1].resolvable
    assert metrics.checker_fnmr == float(np.mean(mated < 0.82))
    assert metrics.checker_fmr == 0.0
    assert metrics.eer == 0.0


def test_operating_point_matches_the_report_convention():
    samples = people(8, 4, spread=2.0, seed=3)  # overlapping: some mated pairs fail
    metrics = identity_metrics(samples, fmrs=(0.05,))
    threshold, fnmr = report_fnmr_at_fmr(metrics.mated, metrics.non_mated, 0.05)
    point = metrics.operating_points[0]
    assert 0.0 < point.fnmr < 1.0
    assert (point.threshold, point.fnmr) == pytest.approx((threshold, fnmr))
    assert fnmr_at_fmr(metrics.mated, metrics.non_mated, 0.05) == point
    assert metrics.fnmr_at(0.05) == point.fnmr and metrics.fnmr_at(0.5) is None
    # a tiny set cannot measure FMR = 0.001: flagged, not silently reported
    few = identity_metrics(people(3, 2, spread=0.3), fmrs=(0.001,))
    assert not few.operating_points[0].resolvable


def test_indistinguishable_people_are_reported_as_such():
    """Random identity labels: FNMR at FMR 0.01 is close to 0.99, EER close to 0.5."""
    rng = np.random.default_rng(1)
    samples = [IdentitySample(f"i{k}", f"person-{k % 10}", rng.normal(size=32)) for k in range(200)]
    metrics = identity_metrics(samples)
    assert metrics.fnmr_at(0.01) > 0.9
    assert 0.35 < metrics.eer < 0.65
    assert metrics.d_prime < 0.3


def test_sampling_caps_pairs_deterministically():
    samples = people(6, 30, spread=0.5, seed=2)  # 2,610 mated and 13,050 non-mated pairs
    a = identity_metrics(samples, max_pairs=500, seed=7)
    b = identity_metrics(samples, max_pairs=500, seed=7)
    c = identity_metrics(samples, max_pairs=500, seed=8)
    assert a.mated_pairs_total == 6 * 435 and a.non_mated_pairs_total == 180 * 179 // 2 - 2610
    assert len(a.non_mated) == 500 and 450 < len(a.mated) <= 500  # drawn, then de-duplicated
    assert a.mated == b.mated and a.non_mated == b.non_mated
    assert a.non_mated != c.non_mated
    full = identity_metrics(samples)
    mated_all = {round(s, 9) for s in full.mated}
    non_all = {round(s, 9) for s in full.non_mated}
    assert {round(s, 9) for s in a.mated} <= mated_all
    assert {round(s, 9) for s in a.non_mated} <= non_all
    assert abs(a.mated_summary.mean - full.mated_summary.mean) < 0.02


def test_age_gap_breakdown_follows_the_six_age_groups():
    """Each person drifts a fixed step per age group: similarity falls as the gap grows."""
    rng = np.random.default_rng(4)
    samples = []
    for p in range(20):
        centre, drift = rng.normal(size=64), rng.normal(size=64)
        for step, age in enumerate(AGE_ORDER):
            vector = centre + 0.8 * step * drift + 0.2 * rng.normal(size=64)
            samples.append(IdentitySample(f"p{p}-{age}", f"p{p}", vector, {"age_group": age}))
    metrics = identity_metrics(samples)
    gaps = metrics.age_gaps
    assert [g.gap for g in gaps] == [0, 1, 2, 3, 4, 5]
    assert gaps[0].pairs == 0 and gaps[0].mean_similarity is None
    assert [g.pairs for g in gaps[1:]] == [20 * (6 - g) for g in range(1, 6)]
    means = [g.mean_similarity for g in gaps[1:]]
    assert means == sorted(means, reverse=True)
    fnmrs = [g.operating_points[0].fnmr for g in gaps[1:]]
    assert fnmrs[0] < fnmrs[-1] and fnmrs == sorted(fnmrs)
    assert gaps[3].operating_points[0].threshold == metrics.operating_points[0].threshold
    # no age attribute, no breakdown
    assert identity_metrics(people(3, 3, spread=0.3)).age_gaps == []


def test_anchor_similarity_and_diversity():
    samples = people(4, 6, spread=0.6, seed=5)
    metrics = identity_metrics(samples)
    first = metrics.per_identity[0]
    group = [s for s in samples if s.identity == first.identity]
    unit = [s.descriptor / np.linalg.norm(s.descriptor) for s in group]
    to_anchor = [float(u @ unit[0]) for u in unit[1:]]
    pairwise = [1 - float(a @ b) for a, b in itertools.combinations(unit, 2)]
    assert first.anchor == group[0].image_id and first.images == 6
    assert first.anchor_similarity_mean == pytest.approx(np.mean(to_anchor))
    assert first.anchor_similarity_min == pytest.approx(min(to_anchor))
    assert first.diversity == pytest.approx(np.mean(pairwise))
    diversities = [p.diversity for p in metrics.per_identity]
    assert metrics.diversity_mean == pytest.approx(np.mean(diversities))
    chosen = identity_metrics(samples, anchors={first.identity: group[3].image_id})
    assert chosen.per_identity[0].anchor == group[3].image_id
    assert chosen.per_identity[0].anchor_similarity_mean != first.anchor_similarity_mean


def test_metrics_file_round_trip(tmp_path):
    metrics = identity_metrics(people(5, 4, spread=0.5), threshold=0.8)
    path = write_identity_metrics(metrics, tmp_path / "metrics" / "identity.json")
    text = path.read_text()
    data = json.loads(text)
    assert data["identities"] == 5 and len(data["mated"]) == 30
    assert text.count("\n") < 400  # score lists on one line each
    back = read_identity_metrics(path)
    assert back.operating_points == metrics.operating_points
    assert back.mated == pytest.approx(metrics.mated, abs=1e-5)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(FacetoryError, match="not an identity metrics file"):
        read_identity_metrics(tmp_path / "bad.json")


@pytest.mark.parametrize(
    ("samples", "kwargs", "message"),
    [
        ([], {}, "at least one sample"),
        ([IdentitySample("a", "x", [1, 0]), IdentitySample("b", "x", [1, 0, 0])], {},
         "different lengths"),
        ([IdentitySample("a", "x", [0, 0])], {}, "zero, NaN or infinite"),
        ([IdentitySample("a", "x", [np.nan, 1])], {}, "zero, NaN or infinite"),
        ([IdentitySample("a", "", [1, 1])], {}, "no identity"),
        ([IdentitySample("a", "x", [1, 1])], {"fmrs": (0.0,)}, "between 0 and 1"),
        ([IdentitySample("a", "x", [1, 1])], {"max_pairs": 0}, "max_pairs"),
    ],
)
def test_bad_input_is_a_one_line_error(samples, kwargs, message):
    with pytest.raises(FacetoryError, match=message):
        identity_metrics(samples, **kwargs)


def test_identity_samples_compute_missing_descriptors(tmp_path):
    from tools.generate.procedural import ProceduralGenerator
    from tools.stores.embed import face_descriptor

    item = PlanItem(id="f1", **{"class": "face"}, seed=11, identity="id-0001",
                    attributes={"age_group": "old"})
    image = ProceduralGenerator(image_size=256).generate([item], tmp_path)[0]
    box = image.truth.faces[0].box
    accepted = ManifestRecord(image_id="f1-a0", item_id="f1", class_name="face",
                              identity="id-0001", status=Status.accepted,
                              attributes=item.attributes, path="f1-a0.png", boxes=[box])
    known = accepted.model_copy(update={"image_id": "known"})
    unboxed = accepted.model_copy(update={"image_id": "unboxed", "boxes": []})
    rejected = accepted.model_copy(update={"image_id": "r", "status": Status.rejected})
    samples = identity_samples([accepted, rejected, known, unboxed], base_dir=tmp_path,
                               descriptors={"known": [1.0, 2.0]})
    assert [s.image_id for s in samples] == ["f1-a0", "known", "unboxed"]
    rgb = np.asarray(Image.open(tmp_path / "f1-a0.png").convert("RGB"))
    assert np.allclose(samples[0].descriptor, face_descriptor(rgb, box))
    assert samples[0].attributes == {"age_group": "old"}
    assert samples[1].descriptor.tolist() == [1.0, 2.0]
    # no box recorded: dlib finds the face; same person, so the same descriptor within 0.6
    assert np.linalg.norm(samples[2].descriptor - samples[0].descriptor) < 0.6
    missing = accepted.model_copy(update={"path": "gone.png"})
    with pytest.raises(FacetoryError, match="cannot read image"):
        identity_samples([missing], base_dir=tmp_path)
