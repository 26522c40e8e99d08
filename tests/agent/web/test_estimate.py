"""The cost estimate: defaults before anything ran, the build's own rates after."""

from __future__ import annotations

from pathlib import Path

from agent.language.spec import DatasetSpec
from agent.web.estimate import estimate
from tests.agent.web.builds import SPEC
from tools.contracts import ManifestRecord, Status
from tools.generate import capabilities
from tools.stores.manifest import Manifest


def test_before_a_build_the_backend_default_and_the_sample_renders_are_used() -> None:
    spec = DatasetSpec.from_data(SPEC)  # 12 images, procedural, fault rate 0.2
    est = estimate(spec, manifest=None, events=[], sample_seconds=[0.01, 0.03],
                   image_files=[])
    assert est.acceptance == capabilities(spec.generation.backend).acceptance * 0.8
    assert est.attempts == 16  # ceil(12 / 0.76)
    assert "2 sample render(s)" in est.seconds_source and not est.gpu


def test_after_attempts_the_build_measured_acceptance_and_timings_are_used(
        tmp_path: Path) -> None:
    spec = DatasetSpec.from_data(SPEC)
    manifest = Manifest(tmp_path / "manifest.sqlite")
    manifest.upsert([
        ManifestRecord(image_id=f"x{i}-a0", item_id=f"x{i}", class_name="none",
                       status=Status.accepted if i % 2 else Status.rejected)
        for i in range(40)
    ], round_=0)
    events = [{"event": "timing", "stages": {"generate": 1.0, "critique": 2.0, "dedup": 1.0}}]
    est = estimate(spec, manifest=manifest, events=events, sample_seconds=[], image_files=[])
    assert est.acceptance == 0.5 and est.attempts == 24
    assert est.seconds == 24 * (4.0 / 40)
    assert "40 attempts" in est.acceptance_source


def test_expected_attempts_never_exceed_the_budget() -> None:
    spec = DatasetSpec.from_data({**SPEC, "generation": {"backend": "diffusers"},
                                  "budget": {"max_attempts_factor": 1.2}})
    est = estimate(spec, manifest=None, events=[], sample_seconds=[], image_files=[])
    assert est.attempts == est.budget == 15 and est.gpu


def test_at_a_size_too_small_to_read_eyewear_the_estimate_says_it_goes_unjudged() -> None:
    small = DatasetSpec.from_data({**SPEC, "image_size": 64})
    est = estimate(small, manifest=None, events=[], sample_seconds=[], image_files=[])
    assert est.acceptance_source == (
        "default for the procedural backend; eyewear not judged: the critic reads eyewear on "
        "faces at least 20 px between the eyes, about 11 at 64 px")
    big = estimate(DatasetSpec.from_data({**SPEC, "image_size": 256}), manifest=None,
                   events=[], sample_seconds=[], image_files=[])
    assert "eyewear" not in big.acceptance_source
