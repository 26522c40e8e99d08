"""The critic end to end: one verdict per image file, judged against what the plan asked."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.tools.face_photos import draw_sunglasses, half_out, portrait, save, side_by_side
from tools.config import MIN_IMAGE_SIZE, ProceduralConfig
from tools.contracts import PlanItem
from tools.critic import Critic, CriticConfig
from tools.critic.clip import ClipConfig
from tools.critic.faces import box_iou
from tools.errors import FacetoryError
from tools.generate import get_generator

TRUE_OF_PORTRAIT = {"eyewear": "none", "eyes": "open", "head_pose": "frontal"}


def item(faces: int = 1, **attributes: str) -> PlanItem:
    return PlanItem(id="item-1", **{"class": "face"}, seed=1, faces=faces,
                    attributes=attributes or dict(TRUE_OF_PORTRAIT))


@pytest.fixture(scope="module")
def critic() -> Critic:
    return Critic(CriticConfig())


@pytest.fixture(scope="module")
def photo_path(tmp_path_factory) -> Path:
    return save(tmp_path_factory.mktemp("critic") / "portrait.png", portrait())


def test_a_faithful_portrait_passes(critic, photo_path):
    verdict = critic.judge(photo_path, item())
    assert verdict.passed, verdict.reasons
    assert verdict.item_id == "item-1"
    assert verdict.faithfulness == 1.0 and verdict.failed_attributes == []
    assert verdict.measured["eyewear"] == "none"
    assert len(verdict.faces) == 1 and len(verdict.faces[0].landmarks) == 5
    assert 0.5 <= verdict.score <= 1.0
    assert {"face_count", "sharpness", "exposure", "attribute:eyewear"} <= {
        c.name for c in verdict.checks}


def test_a_requested_attribute_that_is_not_there(critic, photo_path):
    verdict = critic.judge(photo_path, item(**dict(TRUE_OF_PORTRAIT, eyewear="sunglasses")))
    assert not verdict.passed
    assert verdict.reasons == ["attribute_mismatch:eyewear"]
    assert verdict.failed_attributes == ["eyewear"]
    assert verdict.faithfulness == pytest.approx(2 / 3)
    lenient = Critic(CriticConfig(min_faithfulness=0.6))
    assert lenient.judge(photo_path, item(**dict(TRUE_OF_PORTRAIT, eyewear="sunglasses"))).passed


def test_sunglasses_when_asked(critic, tmp_path):
    path = save(tmp_path / "shades.png", draw_sunglasses(portrait()))
    assert critic.judge(path, item(eyewear="sunglasses")).passed


@pytest.mark.parametrize(
    ("edit", "faces", "reason"),
    [
        (lambda rgb: cv2.GaussianBlur(rgb, (0, 0), 3.0), 1, "blurry"),
        (side_by_side, 1, "extra_face"),
        (lambda rgb: rgb, 2, "missing_face"),
        (half_out, 1, "face_cut_off"),
        (lambda rgb: np.full_like(rgb, 90), 1, "no_face"),
        (lambda rgb: (rgb * 0.08).astype(np.uint8), 1, "exposure"),
    ],
    ids=["blur", "extra", "missing", "cut_off", "empty", "dark"],
)
def test_each_defect_has_its_reason(critic, tmp_path, edit, faces, reason):
    path = save(tmp_path / "edited.png", np.ascontiguousarray(edit(portrait())))
    verdict = critic.judge(path, item(faces=faces))
    assert not verdict.passed
    assert reason in verdict.reasons, (verdict.reasons, [c.detail for c in verdict.checks])


def test_two_faces_when_two_were_asked(critic, tmp_path):
    path = save(tmp_path / "two.png", side_by_side(portrait()))
    verdict = critic.judge(path, item(faces=2))
    assert "extra_face" not in verdict.reasons and "missing_face" not in verdict.reasons
    assert len(verdict.faces) == 2


def test_boxes_are_reported_in_the_original_pixels(tmp_path):
    rgb = portrait()
    big = cv2.resize(rgb, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    small_critic = Critic(CriticConfig(max_analysis_side=512))
    at_size = small_critic.judge(save(tmp_path / "a.png", rgb), item()).faces[0].box
    at_4x = small_critic.judge(save(tmp_path / "b.png", big), item()).faces[0].box
    assert np.allclose(np.array(at_4x) / 4, at_size, atol=6)


def test_a_clean_procedural_image_passes_and_its_box_matches_truth(critic, tmp_path):
    from tools.config import ProceduralConfig
    from tools.critic.faces import box_iou
    from tools.generate import get_generator

    plan = PlanItem(id="p1", **{"class": "face"}, seed=11, identity="anna",
                    attributes={"eyewear": "none", "head_pose": "frontal", "eyes": "open",
                                "mask": "none", "hat": "none", "expression": "neutral"})
    image = get_generator(ProceduralConfig(), image_size=256).generate([plan], tmp_path)[0]
    verdict = critic.judge(Path(image.path), plan)
    assert verdict.passed, [c.detail for c in verdict.checks if not c.passed]
    assert box_iou(verdict.faces[0].box, image.truth.faces[0].box) > 0.7
    blurred = cv2.GaussianBlur(cv2.imread(image.path), (0, 0), 3.0)
    cv2.imwrite(str(tmp_path / "blurred.png"), blurred)
    assert "blurry" in critic.judge(tmp_path / "blurred.png", plan).reasons


def test_assess_returns_what_the_duplicate_check_needs(photo_path):
    critic = Critic(CriticConfig(embed=True, use_descriptor=True))
    result = critic.assess(photo_path, item())
    assert result.verdict.passed
    assert result.embedding is not None and np.linalg.norm(result.embedding) == pytest.approx(1)
    assert len(result.descriptors) == 1 and result.descriptors[0].shape == (128,)
    assert "sharpness" in result.figures


def test_judge_many_keeps_order(critic, photo_path, tmp_path):
    empty = save(tmp_path / "empty.png", np.full((200, 200, 3), 90, np.uint8))
    verdicts = critic.judge_many([(photo_path, item()), (empty, item()), (photo_path, item())])
    assert [v.passed for v in verdicts] == [True, False, True]


def test_five_point_landmarks_skip_what_they_cannot_measure(photo_path):
    critic = Critic(CriticConfig(landmark_points=5))
    verdict = critic.judge(photo_path, item())
    assert verdict.passed
    assert "eyes" not in verdict.measured and "head_pose" not in verdict.measured


def test_configuration_errors_are_one_line():
    with pytest.raises(FacetoryError, match="cannot measure age_group"):
        Critic(CriticConfig(attribute_checks=frozenset({"age_group"})))
    with pytest.raises(FacetoryError):
        Critic(CriticConfig(landmark_points=7))


def test_clip_critic_without_open_clip_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("tools.critic.clip.available", lambda: False)
    with pytest.raises(FacetoryError, match="open_clip"):
        Critic(CriticConfig(clip=ClipConfig(checkpoint=tmp_path / "clip.pt")))


def test_clip_critic_needs_a_local_checkpoint(tmp_path):
    with pytest.raises(FacetoryError, match="checkpoint not found"):
        Critic(CriticConfig(clip=ClipConfig(checkpoint=tmp_path / "missing.pt")))


def renders(size: int, tmp_path: Path, n: int = 8) -> list[tuple[Path, PlanItem, list]]:
    """Clean one-face procedural renders of `size` px: file, plan item, truth boxes."""
    tones = ("monk_1", "monk_4", "monk_7", "monk_10")
    items = [PlanItem(id=f"s{i}", **{"class": "face"}, seed=100 + i, faces=1,
                      attributes={"skin_tone": tones[i % 4], "eyewear": "none"})
             for i in range(n)]
    gen = get_generator(ProceduralConfig(fault_rate=0.0), image_size=size)
    images = gen.generate(items, tmp_path / f"r{size}")
    return [(Path(im.path), it, [f.box for f in im.truth.faces])
            for im, it in zip(images, items, strict=True)]


def test_a_64_px_render_is_judged_like_a_256_px_one_and_boxed_in_its_own_pixels(
        critic, tmp_path):
    judged = [(critic.judge(path, it), truth) for path, it, truth in renders(64, tmp_path)]
    assert sum(v.passed for v, _ in judged) >= 7, [v.reasons for v, _ in judged]
    for verdict, truth in judged:
        if verdict.faces:
            box = verdict.faces[0].box
            assert max(box) <= 64 + 4 and box_iou(box, truth[0]) > 0.6
            assert all(0 <= x <= 64 and 0 <= y <= 64 for x, y in verdict.faces[0].landmarks)


def test_a_blurred_64_px_render_is_rejected_as_blurry(critic, tmp_path):
    path, it, _ = renders(64, tmp_path, n=1)[0]
    assert critic.judge(path, it).passed
    rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    blurred = save(tmp_path / "blurred.png", cv2.GaussianBlur(rgb, (0, 0), 1.2))
    assert "blurry" in critic.judge(blurred, it).reasons


def test_eyewear_is_not_judged_on_a_face_with_too_few_pixels_between_the_eyes(
        critic, tmp_path):
    path, _, _ = renders(64, tmp_path, n=1)[0]
    wrong = item(eyewear="sunglasses")  # none is drawn; at 64 px nobody can tell
    verdict = critic.assess(path, wrong)
    assert verdict.figures["eye_distance_px"] < CriticConfig().min_eyewear_iod
    assert "eyewear" not in verdict.verdict.measured
    assert "attribute:eyewear" not in {c.name for c in verdict.verdict.checks}
    big, _, _ = renders(256, tmp_path, n=1)[0]
    assert "attribute_mismatch:eyewear" in critic.judge(big, wrong).reasons


def test_an_image_under_the_smallest_spec_size_is_too_small_to_judge(critic, tmp_path):
    side = MIN_IMAGE_SIZE - 1
    path = save(tmp_path / "small.png", cv2.resize(portrait(), (side, side)))
    assert critic.judge(path, item()).reasons == ["too_small_image"]
