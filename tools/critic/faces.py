"""Faces in the pixels: dlib HOG detection, 68/5-point landmarks and what they tell.

The model files come from the `face_recognition_models` wheel and are loaded once per
process (they take about a second). Everything here works on an RGB uint8 array; the
pipeline decides what to do with the measurements.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import dlib
import numpy as np

from tools.contracts import Box, Point
from tools.errors import FacetoryError

#: Fixed corrections to a full face box (brow band to chin, cheek to cheek, as the
#: procedural renderer's ground truth draws it), as fractions of the source box's width and
#: height: (dx0, dy0, dx1, dy1). The source is the extent of the 68 landmarks when there are
#: 68 (their jaw line and brows follow the face), else the dlib HOG box, which is tight and
#: sits on a coarse scanning grid. Fitted (median offsets) by bench/bench_critic.py, which
#: prints the mean IoU against ground truth with and without them.
LANDMARK_BOX_CORRECTION: tuple[float, float, float, float] = (-0.012, -0.183, 0.017, 0.024)
HOG_BOX_CORRECTION: tuple[float, float, float, float] = (-0.01, -0.01, 0.0, 0.03)

_MODEL_FILES = {
    "cnn": "mmod_human_face_detector.dat",
    "shape68": "shape_predictor_68_face_landmarks.dat",
    "shape5": "shape_predictor_5_face_landmarks.dat",
    "encoder": "dlib_face_recognition_resnet_model_v1.dat",
}


def model_path(name: str) -> Path:
    """Path of a dlib model file shipped by `face_recognition_models`.

    Found without importing the package, whose import pulls the deprecated pkg_resources.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FacetoryError(
            "face_recognition_models is not installed: pip install face_recognition_models"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / _MODEL_FILES[name]
    if not path.is_file():
        raise FacetoryError(f"dlib model file missing: {path} (reinstall face_recognition_models)")
    return path


@lru_cache(maxsize=1)
def hog_detector() -> dlib.fhog_object_detector:
    return dlib.get_frontal_face_detector()


@lru_cache(maxsize=1)
def cnn_detector() -> dlib.cnn_face_detection_model_v1:
    return dlib.cnn_face_detection_model_v1(str(model_path("cnn")))


@lru_cache(maxsize=2)
def shape_predictor(points: int = 68) -> dlib.shape_predictor:
    if points not in (5, 68):
        raise FacetoryError(f"landmark model must have 5 or 68 points, not {points}")
    return dlib.shape_predictor(str(model_path(f"shape{points}")))


@lru_cache(maxsize=1)
def face_encoder() -> dlib.face_recognition_model_v1:
    return dlib.face_recognition_model_v1(str(model_path("encoder")))


@dataclass
class FaceObservation:
    """One detected face with its landmarks and the geometry measured from them."""

    box: Box
    """Full-face box after the fixed correction, in the pixels of the analysed image."""
    hog_box: Box
    """The dlib detection as found (what the 5-point model and the descriptor expect)."""
    score: float
    landmarks: np.ndarray
    """(68, 2) or (5, 2) float array of landmark points."""
    five: list[Point] = field(default_factory=list)
    """Left eye, right eye, nose tip, left mouth corner, right mouth corner (image left first)."""
    geometry: dict[str, float] = field(default_factory=dict)
    partial: bool = False
    """Found only by looking past the image border: the face is cut off by the frame."""

    @property
    def size(self) -> float:
        """Geometric mean of the box sides, in pixels."""
        x0, y0, x1, y1 = self.box
        return math.sqrt(max(x1 - x0, 0.0) * max(y1 - y0, 0.0))

    @property
    def has_68(self) -> bool:
        return len(self.landmarks) == 68


def _rect_box(rect: dlib.rectangle) -> Box:
    return (
        float(rect.left()), float(rect.top()), float(rect.right() + 1), float(rect.bottom() + 1)
    )


def correct_box(box: Box, correction: tuple[float, float, float, float]) -> Box:
    """Apply a fixed affine correction (fractions of the box's width and height)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    dx0, dy0, dx1, dy1 = correction
    return (x0 + dx0 * w, y0 + dy0 * h, x1 + dx1 * w, y1 + dy1 * h)


def source_box(hog_box: Box, marks: np.ndarray) -> Box:
    """The box the correction applies to: the 68 landmarks' extent, else the HOG box."""
    if len(marks) != 68:
        return hog_box
    x0, y0 = marks.min(axis=0)
    x1, y1 = marks.max(axis=0)
    return (float(x0), float(y0), float(x1), float(y1))


def face_box(
    hog_box: Box, marks: np.ndarray, correction: tuple[float, float, float, float] | None = None
) -> Box:
    """Full-face box of one detection, from its landmarks when it has 68."""
    if correction is None:
        correction = LANDMARK_BOX_CORRECTION if len(marks) == 68 else HOG_BOX_CORRECTION
    return correct_box(source_box(hog_box, marks), correction)


def detect(
    rgb: np.ndarray, *, upsample: int = 0, threshold: float = 0.0
) -> list[tuple[dlib.rectangle, float]]:
    """dlib HOG detections (rectangle, confidence) above `threshold`, best first."""
    rects, scores, _ = hog_detector().run(rgb, upsample, threshold)
    found = sorted(zip(rects, scores, strict=True), key=lambda rs: -rs[1])
    return _suppress_overlaps(found)


def _suppress_overlaps(found: list[tuple[dlib.rectangle, float]]) -> list:
    """dlib runs its own NMS per scale; drop the rare box mostly inside a better one."""
    kept: list[tuple[dlib.rectangle, float]] = []
    for rect, score in found:
        box = _rect_box(rect)
        if all(overlap_fraction(box, _rect_box(k)) < 0.5 for k, _ in kept):
            kept.append((rect, score))
    return kept


def overlap_fraction(a: Box, b: Box) -> float:
    """Intersection area over the smaller box's area."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def landmarks(rgb: np.ndarray, rect: dlib.rectangle, points: int = 68) -> np.ndarray:
    """Landmark points of one face as an (N, 2) float array."""
    shape = shape_predictor(points)(rgb, rect)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def five_points(marks: np.ndarray) -> list[Point]:
    """The contract's five points from 68 or 5 dlib landmarks, image-left eye first."""
    if len(marks) == 68:
        eye_a, eye_b = marks[36:42].mean(axis=0), marks[42:48].mean(axis=0)
        nose, mouth_a, mouth_b = marks[30], marks[48], marks[54]
    else:  # dlib 5-point: 0-1 one eye's corners, 2-3 the other's, 4 below the nose
        eye_a, eye_b = marks[0:2].mean(axis=0), marks[2:4].mean(axis=0)
        nose = marks[4]
        mouth_a = mouth_b = marks[4]
    if eye_a[0] > eye_b[0]:
        eye_a, eye_b = eye_b, eye_a
    if mouth_a[0] > mouth_b[0]:
        mouth_a, mouth_b = mouth_b, mouth_a
    return [(float(p[0]), float(p[1])) for p in (eye_a, eye_b, nose, mouth_a, mouth_b)]


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.hypot(*(a - b)))


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """Soukupova & Cech's EAR over six eye points: about 0.3 open, below 0.2 closed."""
    width = _dist(eye[0], eye[3])
    if width <= 0:
        return 0.0
    return (_dist(eye[1], eye[5]) + _dist(eye[2], eye[4])) / (2.0 * width)


def geometry(marks: np.ndarray) -> dict[str, float]:
    """Pose and expression measurements from 68 landmarks, all scale-free.

    yaw: horizontal nose offset from the eye midpoint over the inter-ocular distance, in
    the roll-corrected frame (positive: nose towards image right). roll: eye line angle in
    degrees (positive: the image-right eye lower). pitch: nose height between eyes and mouth.
    ear: mean eye aspect ratio. mouth_open: inner-lip gap over mouth width. smile: mouth
    corner lift over mouth width (positive: corners above the lip centre line). mouth_width:
    mouth width over inter-ocular distance. brow: brow height above the eyes over IOD.
    """
    if len(marks) != 68:
        return {}
    eye_l, eye_r = marks[36:42].mean(axis=0), marks[42:48].mean(axis=0)
    iod = _dist(eye_l, eye_r)
    if iod <= 1e-6:
        return {}
    roll = math.degrees(math.atan2(eye_r[1] - eye_l[1], eye_r[0] - eye_l[0]))
    # rotate into the eye-aligned frame so roll does not leak into yaw and pitch
    c, s = math.cos(math.radians(-roll)), math.sin(math.radians(-roll))
    rot = np.array([[c, -s], [s, c]])
    centre = (eye_l + eye_r) / 2.0
    pts = (marks - centre) @ rot.T
    mouth_mid = (pts[48] + pts[54]) / 2.0
    eye_to_mouth = mouth_mid[1]
    mouth_w = _dist(pts[48], pts[54])
    inner_gap = (
        _dist(pts[61], pts[67]) + _dist(pts[62], pts[66]) + _dist(pts[63], pts[65])
    ) / 3.0
    lip_centre_y = (pts[51][1] + pts[57][1]) / 2.0
    corners_y = (pts[48][1] + pts[54][1]) / 2.0
    brows_y = pts[17:27, 1].mean()
    return {
        "roll": roll,
        "yaw": float(pts[30][0] / iod),
        "pitch": float(pts[30][1] / eye_to_mouth) if eye_to_mouth > 1e-6 else 0.5,
        "ear": (eye_aspect_ratio(marks[36:42]) + eye_aspect_ratio(marks[42:48])) / 2.0,
        "mouth_open": float(inner_gap / mouth_w) if mouth_w > 1e-6 else 0.0,
        "smile": float((lip_centre_y - corners_y) / mouth_w) if mouth_w > 1e-6 else 0.0,
        "mouth_width": float(mouth_w / iod),
        "brow": float(-brows_y / iod),
        "iod": iod,
    }


def analyse(
    rgb: np.ndarray,
    *,
    expected: int = 1,
    threshold: float = 0.0,
    points: int = 68,
    correction: tuple[float, float, float, float] | None = None,
    partial: bool = True,
    cnn: bool = False,
) -> list[FaceObservation]:
    """Detect faces, place landmarks and measure geometry; whole faces first, largest first.

    HOG runs at the image's own scale first (about 10 ms at 256 px), down to `HARD_SLACK`
    below the threshold. Only while fewer faces than expected are found does it look
    harder, cheapest look first, each adding at most as many faces as are missing (so a
    weak extra match cannot make an `extra_face`): that pass's weaker matches wholly inside
    the frame (free: a white mask on the darkest skin leaves a face scoring just below
    zero), closer (`closer_look`), past the borders (the image mirrored outwards, so a face
    cut in half by the frame is completed by its own reflection; marked `partial`), then on
    a contrast-equalised copy, the remaining weak matches and, when `cnn` is on, dlib's CNN
    detector (`hard_look`).
    """
    candidates = detect(rgb, upsample=0, threshold=threshold - HARD_SLACK)
    found = [(rect, score) for rect, score in candidates if score >= threshold]
    weak = [(rect, score) for rect, score in candidates if score < threshold]
    if len(found) < expected:  # weak matches wholly inside first (a cut face is partial)
        inside = [(r, sc) for r, sc in weak if _inside(_rect_box(r), rgb.shape)]
        found += _new_faces(inside, 1.0, [_rect_box(r) for r, _ in found],
                            expected - len(found))
    if len(found) < expected:
        found += closer_look(rgb, [_rect_box(r) for r, _ in found], expected - len(found),
                             threshold)
    faces = [_observe(rgb, rect, score, points, correction) for rect, score in found]
    if len(faces) < expected and partial:
        faces += _partial_faces(rgb, faces, threshold, points, correction)
    if len(faces) < expected:
        known = [f.hog_box for f in faces]
        hits = hard_look(rgb, known, expected - len(faces), threshold, weak, cnn=cnn)
        faces += [_observe(rgb, rect, score, points, correction) for rect, score in hits]
    faces.sort(key=lambda f: (f.partial, -f.size))
    return faces


def _inside(box: Box, shape: tuple[int, ...]) -> bool:
    return box[0] >= 0 and box[1] >= 0 and box[2] <= shape[1] and box[3] <= shape[0]


def _observe(
    rgb: np.ndarray, rect: dlib.rectangle, score: float, points: int,
    correction: tuple[float, float, float, float] | None, offset: float = 0.0,
) -> FaceObservation:
    marks = landmarks(rgb, rect, points) - offset
    hog_box = tuple(v - offset for v in _rect_box(rect))
    return FaceObservation(
        box=face_box(hog_box, marks, correction),  # type: ignore[arg-type]
        hog_box=hog_box,  # type: ignore[arg-type]
        score=float(score),
        landmarks=marks,
        five=five_points(marks),
        geometry=geometry(marks),
        partial=offset > 0,
    )


#: Magnification and threshold slack of the second look for faces the first one missed.
CLOSER_SCALE = 1.5
CLOSER_SLACK = 0.3
#: Largest image side the magnified looks are taken at (beyond it, faces are big enough).
CLOSER_MAX_SIDE = 640


def closer_look(
    rgb: np.ndarray, known: list[Box], missing: int, threshold: float
) -> list[tuple[dlib.rectangle, float]]:
    """HOG at 1.5 times the scale with a slightly lower threshold: faces down to ~50 px."""
    if max(rgb.shape[:2]) > CLOSER_MAX_SIDE:
        return []
    return _look(rgb, CLOSER_SCALE, known, missing, threshold - CLOSER_SLACK)


#: How far below the threshold `analyse`'s first HOG pass reaches for weak matches: faces
#: half covered by a mask (most of those missed on the darkest skin) score just below zero.
HARD_SLACK = 0.9


def hard_look(
    rgb: np.ndarray, known: list[Box], missing: int, threshold: float,
    weak: list[tuple[dlib.rectangle, float]], *, cnn: bool = False,
) -> list[tuple[dlib.rectangle, float]]:
    """Faces the cheaper looks missed.

    First HOG on a contrast-equalised copy (CLAHE on lightness): a dark face on a dark
    background, or one half covered by a mask, has weak gradients that equalising restores
    (bench/bench_critic.py: most clean faces HOG missed were on the darkest skin or behind
    masks and sunglasses; a magnified equalised look found few more for twice the cost).
    Then the rest of `analyse`'s weak first-pass matches (`weak`, down to `HARD_SLACK`
    below the threshold), those touching the frame included: weak matches found 50 of the
    58 faces the other looks missed in 3,000 clean renders, with one wrong box. Weak matches
    on the equalised copy join them when found again at other scales (`_found_again`): a
    face on the darkest skin behind a mask and sunglasses, its outline faint against dark
    hair, scores just under the weak floor in the raw pixels but above it once equalised
    (bench/bench_critic.py --worn). Last, when
    asked, dlib's CNN (MMOD) detector, at about 0.7 s for a 256 px image on one core, so it
    is off by default.
    """
    equalised, floor, cut = _equalise(rgb), threshold - HARD_SLACK, threshold - CLOSER_SLACK
    hits = detect(equalised, upsample=0, threshold=floor)
    added = _new_faces([h for h in hits if h[1] >= cut], 1.0, known, missing)
    if len(added) < missing:
        boxes = known + [_rect_box(r) for r, _ in added]
        faint = [h for h in hits if h[1] < cut
                 and all(overlap_fraction(_rect_box(h[0]), k) <= 0.3 for k in boxes)]
        pool = sorted(weak + _found_again(equalised, faint, floor), key=lambda rs: -rs[1])
        added += _new_faces(pool, 1.0, boxes, missing - len(added))
    if cnn and len(added) < missing:
        hits = sorted(((d.rect, float(d.confidence)) for d in cnn_detector()(rgb, 0)),
                      key=lambda rs: -rs[1])
        boxes = known + [_rect_box(r) for r, _ in added]
        added += _new_faces(hits, 1.0, boxes, missing - len(added))
    return added


#: Scales a weak match on the equalised copy must be found at again (`_found_again`).
CONFIRM_SCALES = (0.8, 1.25)


def _found_again(
    rgb: np.ndarray, hits: list[tuple[dlib.rectangle, float]], floor: float
) -> list[tuple[dlib.rectangle, float]]:
    """The hits HOG finds again, above `floor`, at every one of `CONFIRM_SCALES`: a face is
    a face at any scale, a chance match in a background texture seldom is."""
    for scale in CONFIRM_SCALES:
        if not hits:
            break
        resized = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        seen = [tuple(v / scale for v in _rect_box(r)) for r, _ in
                detect(resized, upsample=0, threshold=floor)]
        hits = [h for h in hits if any(box_iou(_rect_box(h[0]), b) > 0.5 for b in seen)]
    return hits


def _look(
    rgb: np.ndarray, scale: float, known: list[Box], missing: int, threshold: float
) -> list[tuple[dlib.rectangle, float]]:
    """HOG on the image resized by `scale`; new faces in the image's own pixels."""
    if scale != 1.0:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    return _new_faces(detect(rgb, upsample=0, threshold=threshold), scale, known, missing)


def _equalise(rgb: np.ndarray) -> np.ndarray:
    """Local contrast equalised on the lightness channel only (colours kept)."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def _new_faces(
    hits: list[tuple[dlib.rectangle, float]], scale: float, known: list[Box], missing: int
) -> list[tuple[dlib.rectangle, float]]:
    """Up to `missing` detections (found at `scale`) that overlap no known face."""
    added: list[tuple[dlib.rectangle, float]] = []
    for rect, score in hits:
        if len(added) == missing:
            break
        box = tuple(v / scale for v in _rect_box(rect))
        if any(overlap_fraction(box, k) > 0.3 for k in known + [_rect_box(r) for r, _ in added]):
            continue
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        added.append((dlib.rectangle(x0, y0, x1 - 1, y1 - 1), score))
    return added


#: Border added (as a fraction of the short side) when looking for faces cut by the frame.
PARTIAL_PAD = 0.4
#: How much lower the HOG threshold is for those: half a face is a weaker match.
PARTIAL_SLACK = 0.3


def _partial_faces(
    rgb: np.ndarray, known: list[FaceObservation], threshold: float, points: int,
    correction: tuple[float, float, float, float] | None,
) -> list[FaceObservation]:
    h, w = rgb.shape[:2]
    pad = int(PARTIAL_PAD * min(h, w))
    padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    found = []
    for rect, score in detect(padded, upsample=0, threshold=threshold - PARTIAL_SLACK):
        x0, y0, x1, y1 = (v - pad for v in _rect_box(rect))
        if x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h:
            continue  # wholly inside: not a cut face (and missed at full threshold before)
        inside = (max(x0, 0.0), max(y0, 0.0), min(x1, float(w)), min(y1, float(h)))
        if inside[2] - inside[0] < 2 or inside[3] - inside[1] < 2:
            continue
        if any(overlap_fraction(inside, f.hog_box) > 0.3 for f in known + found):
            continue
        found.append(_observe(padded, rect, score, points, correction, offset=float(pad)))
    return found


def descriptor(rgb: np.ndarray, box: Box) -> np.ndarray:
    """dlib's 128-D face descriptor (same person: Euclidean distance below about 0.6)."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    rect = dlib.rectangle(x0, y0, max(x1 - 1, x0 + 1), max(y1 - 1, y0 + 1))
    shape = shape_predictor(5)(rgb, rect)
    return np.asarray(face_encoder().compute_face_descriptor(rgb, shape), dtype=np.float32)


@lru_cache(maxsize=4)
def haar_cascade(name: str) -> cv2.CascadeClassifier:
    """One of OpenCV's bundled Haar cascades, e.g. `haarcascade_eye_tree_eyeglasses.xml`."""
    path = Path(cv2.data.haarcascades) / name
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise FacetoryError(f"OpenCV Haar cascade missing: {path} (use opencv-python 4.x)")
    return cascade
