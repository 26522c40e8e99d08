"""The procedural backend: plausible 2D faces on any CPU, no weights, exact ground truth.

It is the embedded default so the whole product runs in CI and on a laptop, and it can
imitate what diffusion models get wrong (`fault_rate`) so the critic and the agent's retry
loop have real work offline. Faults are recorded in `GroundTruth.faults`, which the critic
never reads; benchmarks use them to score the critic.

Seeds: the picture depends only on the plan item (seed, attributes, identity, face count).
Independent random streams (scene, each face, layout, faults) are derived from the seed, so
turning faults on does not change the clean images, and changing one attribute changes only
that attribute. A near-copy fault re-draws an image made earlier in the same `generate` call:
a batch is always re-rendered whole, so a resumed build draws exactly the same near-copies.

Conventions: `head_pose` left/right is the direction the face turns in the image; landmark
"left eye" is the eye on the image's left; boxes run from the brow band to the chin and
across the cheeks (mean IoU about 0.8 with dlib HOG boxes). Skin is drawn from the Monk
swatch with an exposure lift for darker tones (`tools.generate.face.skin_rgb`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from tools.config import IMAGE_SIZE, MAX_FACES_PER_IMAGE, ProceduralConfig
from tools.contracts import FaceTruth, GeneratedImage, GroundTruth, PlanItem
from tools.errors import FacetoryError
from tools.generate.background import draw_background, finish
from tools.generate.base import Capabilities, image_filename
from tools.generate.face import FaceDrawer, skin_rgb
from tools.generate.face_geometry import Pose, face_box, landmarks, make_layout
from tools.generate.people import Identity, make_identity
from tools.generate.provenance import provenance, write_png
from tools.generate.scene import (
    SEED_DRAWN,
    FaceSpec,
    age_group_of,
    canonical_attributes,
    norm_level,
    resolve_face,
    resolve_scene,
)
from tools.safety import check_items
from tools.vocabulary import AGE_GROUP_YEARS, ETHNICITY_SKIN_TONES, FACTORS, NEUTRAL

MODEL = "facetory-procedural-1"
FAULTS = ("attribute_mismatch", "face_cut_off", "missing_face", "extra_face", "blurry", "duplicate")
MAX_FACES = MAX_FACES_PER_IMAGE

# stream ids for numpy SeedSequence: one independent stream per purpose
_SCENE, _FACE, _FAULT, _LAYOUT = range(4)


@lru_cache(maxsize=4096)
def _identity(key: str) -> Identity:
    return make_identity(key)


def _luma(rgb) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


@dataclass(frozen=True)
class Recipe:
    """What one image of a `generate` call is: the item, its fault, and for a near-copy the
    (item, fault) it copies. Drawing a recipe needs nothing else (`render_recipe`)."""

    item: PlanItem
    fault: str | None
    source: tuple[PlanItem, str | None] | None = None


@dataclass
class _Slot:
    cx: float
    cy: float
    s: float
    row: int
    col: int
    rows: int
    cols: int


def _grid(n: int) -> tuple[int, int]:
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    return rows, cols


def layout(n: int, size: int, rng: np.random.Generator) -> list[_Slot]:
    """Non-overlapping head positions for `n` faces: one large face, or a grid of cells."""
    v = rng.random(3 + 3 * max(n, 1))
    if n <= 0:
        return []
    if n == 1:
        s = size * (0.205 + 0.055 * v[0])
        lo, hi = 1.45 * s, size - 1.5 * s
        cy = float(np.clip(size * (0.42 + 0.08 * v[1]), lo, max(lo, hi)))
        cx = size / 2 + (v[2] - 0.5) * (size - 2.4 * s) * 0.6
        return [_Slot(cx, cy, s, 0, 0, 1, 1)]
    rows, cols = _grid(n)
    cw, ch = size / cols, size / rows
    base = min(cw / 2.9, ch / 3.1) * (0.9 + 0.1 * v[0])
    slots = []
    for i in range(n):
        r, c = divmod(i, cols)
        j = 3 + 3 * i
        s = base * (0.92 + 0.08 * v[j])
        cx = (c + 0.5) * cw + (v[j + 1] - 0.5) * 0.08 * cw
        cy = (r + 0.47) * ch + (v[j + 2] - 0.5) * 0.06 * ch
        slots.append(_Slot(cx, cy, s, r, c, rows, cols))
    return slots


class ProceduralGenerator:
    """CPU face renderer implementing the `Generator` protocol."""

    name = ProceduralConfig.backend
    capabilities = Capabilities(
        draws_levels=True, stylised=True, reads_age_gender=False, pure_recipes=True,
        identity="fixed", needs_gpu=False, acceptance=0.95, seconds_per_image=0.03,
    )

    def __init__(self, config: ProceduralConfig | None = None, *,
                 image_size: int = IMAGE_SIZE, history: int = 512):
        config = config or ProceduralConfig()
        if not 32 <= image_size <= 4096:
            raise FacetoryError(f"image_size must be between 32 and 4096 pixels, got {image_size}")
        self.config = config
        self.model = MODEL
        self.image_size = int(image_size)
        self.fault_rate = config.fault_rate
        self.photo_backgrounds = config.photo_backgrounds
        # what was drawn lately, as (item, fault): a near-copy re-draws one of them exactly
        self._history: deque[tuple[PlanItem, str | None]] = deque(maxlen=history)

    # ------------------------------------------------------------------ protocol
    def generate(
        self, items: Sequence[PlanItem], out_dir: Path, *, attempt: int = 0
    ) -> list[GeneratedImage]:
        """Render and write each item as `out_dir/<id>-a<attempt>.png`."""
        check_items(items, after="nothing was generated")  # prompts travel in provenance
        return [self.draw(recipe, Path(out_dir), attempt) for recipe in self.recipes(items)]

    def recipes(self, items: Sequence[PlanItem]) -> list[Recipe]:
        """What `generate` draws for each item of one call, decided without drawing.

        Only a near-copy fault depends on another item (one drawn earlier in the same call);
        a recipe names that item, so each recipe is drawn on its own, in any process, in any
        order (`tools.execution.image_tasks` draws a batch's recipes on the worker pool).
        """
        self._history.clear()  # near-copies come from this batch only: deterministic on resume
        return [self._recipe(item) for item in items]

    def draw(self, recipe: Recipe, out_dir: Path, attempt: int = 0) -> GeneratedImage:
        """Render one recipe and write it as `out_dir/<id>-a<attempt>.png`."""
        item = recipe.item
        t0 = time.perf_counter()
        pixels, truth = self.render_recipe(recipe)
        t1 = time.perf_counter()
        path = Path(out_dir) / image_filename(item, attempt)
        fields = provenance(generator=self.name, model=self.model, seed=item.seed,
                            prompt=item.prompt, item_id=item.id)
        write_png(path, pixels, fields)
        t2 = time.perf_counter()
        return GeneratedImage(
            item_id=item.id,
            path=str(path),
            width=self.image_size,
            height=self.image_size,
            backend=self.name,
            model=self.model,
            seed=item.seed,
            prompt=item.prompt,
            timings_ms={"render": (t1 - t0) * 1e3, "write": (t2 - t1) * 1e3},
            truth=truth,
        )

    # ------------------------------------------------------------------ rendering
    def render(self, item: PlanItem) -> tuple[np.ndarray, GroundTruth]:
        """Pixels (H x W x 3 RGB uint8) and ground truth for one item, faults included
        (a near-copy fault copies an item rendered earlier by this generator)."""
        return self.render_recipe(self._recipe(item))

    def render_recipe(self, recipe: Recipe) -> tuple[np.ndarray, GroundTruth]:
        """Pixels and ground truth of one recipe (a pure function of it)."""
        if recipe.source is not None:
            img, truth = self._near_copy(recipe.source, recipe.item.seed)
            # the injected fault first; a copy of a flawed image keeps its flaws too
            truth.faults.insert(0, "duplicate")
            return img, truth
        return self._render(recipe.item, recipe.fault)

    def render_clean(self, item: PlanItem) -> tuple[np.ndarray, GroundTruth]:
        """The item as it looks without any fault (history untouched)."""
        return self._render(item, None)

    def _recipe(self, item: PlanItem) -> Recipe:
        """The next item's recipe; it joins the history a later near-copy draws from."""
        if not 0 <= item.faces <= MAX_FACES:
            raise FacetoryError(f"item {item.id}: faces must be 0..{MAX_FACES}, got {item.faces}")
        fault = self._choose_fault(item)
        if fault == "duplicate":
            source = self._copy_source(item)
            self._history.append(source)
            return Recipe(item, fault, source)
        self._history.append((item, fault))
        return Recipe(item, fault)

    def _choose_fault(self, item: PlanItem) -> str | None:
        rng = np.random.default_rng([item.seed & 0xFFFFFFFFFFFF, _FAULT])
        u, pick = rng.random(2)
        if self.fault_rate <= 0.0 or u >= self.fault_rate:
            return None
        options = list(FAULTS)
        if not canonical_attributes(item.attributes):
            options.remove("attribute_mismatch")
        if not self._history:
            options.remove("duplicate")
        if item.faces == 0:
            options = [o for o in options if o in ("extra_face", "blurry", "duplicate")]
        return options[int(pick * len(options))]

    def _copy_source(self, item: PlanItem) -> tuple[PlanItem, str | None]:
        rng = np.random.default_rng([item.seed & 0xFFFFFFFFFFFF, _FAULT, 1])
        return self._history[int(rng.integers(0, len(self._history)))]

    def _near_copy(
        self, source: tuple[PlanItem, str | None], seed: int
    ) -> tuple[np.ndarray, GroundTruth]:
        """An earlier image, slightly shifted, scaled and re-exposed (what dedup must catch)."""
        img, truth = self._render(*source)
        rng = np.random.default_rng([seed & 0xFFFFFFFFFFFF, _FAULT, 2])
        size = self.image_size
        scale = 1.0 + rng.uniform(-0.025, 0.025)
        dx, dy = rng.uniform(-0.02, 0.02, 2) * size
        m = cv2.getRotationMatrix2D((size / 2, size / 2), 0.0, scale)
        m[:, 2] += (dx, dy)
        out = cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT)
        gain = rng.uniform(0.94, 1.06)
        out = np.clip(out.astype(np.float32) * gain + rng.uniform(-6, 6), 0, 255).astype(np.uint8)
        faces = []
        for face in truth.faces:
            pts = np.array([[face.box[0], face.box[1]], [face.box[2], face.box[3]]]) @ m[:, :2].T
            pts += m[:, 2]
            box = _clip_box(pts.min(axis=0).tolist() + pts.max(axis=0).tolist(), size)
            lms = (np.array(face.landmarks) @ m[:, :2].T + m[:, 2]).tolist()
            if box is not None:
                faces.append(face.model_copy(
                    update={"box": box, "landmarks": [(float(x), float(y)) for x, y in lms]}))
        return out, GroundTruth(faces=faces, faults=list(truth.faults))

    def _render(self, item: PlanItem, fault: str | None) -> tuple[np.ndarray, GroundTruth]:
        seed = item.seed & 0xFFFFFFFFFFFF
        size = self.image_size
        requested: Mapping[str, str] = item.attributes
        faults: list[str] = []
        fault_rng = np.random.default_rng([seed, _FAULT, 3])
        if fault == "attribute_mismatch":
            requested, factor = _wrong_attribute(item.attributes, fault_rng)
            faults.append(f"attribute_mismatch:{factor}")
        first = _with_variation(requested, item.variation, fault)

        n = item.faces
        drawn = list(range(n))
        if fault == "extra_face":
            n += 1
            drawn = list(range(n))
            faults.append("extra_face")
        slots = layout(n, size, np.random.default_rng([seed, _LAYOUT, n]))
        if fault == "missing_face":
            drawn.pop(int(fault_rng.integers(0, len(drawn))))
            faults.append("no_face" if item.faces == 1 else "missing_face")

        scene = resolve_scene(first, np.random.default_rng([seed, _SCENE]),
                              self.photo_backgrounds)
        faces: list[tuple[FaceSpec, _Slot, str]] = []
        for j in drawn:
            key = item.identity if (j == 0 and item.identity) else f"anon:{item.seed}:{j}"
            asked = first if j == 0 else requested
            spec = resolve_face(asked, _identity(key), np.random.default_rng([seed, _FACE, j]))
            faces.append((spec, slots[j], key))

        skin = _luma(skin_rgb(faces[0][0])) if faces else 128.0
        img = draw_background(size, scene, skin)
        img = np.ascontiguousarray(img)

        cut_index = -1
        if fault == "face_cut_off" and faces:
            cut_index = int(fault_rng.integers(0, len(faces)))
            faults.append("face_cut_off")
        truths: list[FaceTruth] = []
        order = sorted(range(len(faces)), key=lambda i: (faces[i][1].row, faces[i][1].col))
        for i in order:
            spec, slot, key = faces[i]
            lay = make_layout(spec)
            pose = Pose(slot.cx, slot.cy, slot.s, spec.yaw, spec.roll, lay.head_b)
            pose = _inside(pose, lay, size)
            if i == cut_index:
                pose = _cut_off(pose, lay, slot, size, fault_rng)
            FaceDrawer(img, spec, pose, scene.lighting).draw()
            box = _clip_box(face_box(pose, lay), size)
            if box is None:
                continue
            attrs = dict(spec.attributes)
            attrs["background"] = scene.background
            attrs["lighting"] = scene.lighting
            attrs.update(_passthrough(requested, attrs))
            truths.append(FaceTruth(box=box, landmarks=landmarks(pose, lay), attributes=attrs,
                                    identity=key))
        truths.sort(key=lambda f: (f.box[1] // (size / 4), f.box[0]))

        img = finish(img)
        if fault == "blurry":
            sigma = size / 256 * fault_rng.uniform(2.4, 3.6)
            img = cv2.GaussianBlur(img, (0, 0), sigma)
            faults.append("blurry")
        return img, GroundTruth(faces=truths, faults=faults)


def unasked_variation(item: PlanItem) -> dict[str, str]:
    """The levels this renderer draws for the factors `item` does not ask for (its first
    face and the scene, without faults): what the plan item declares as its `variation`.

    Neutral factors (nothing worn) are left out: they are not varied.
    """
    seed = item.seed & 0xFFFFFFFFFFFF
    asked = canonical_attributes(item.attributes)
    scene = resolve_scene(item.attributes, np.random.default_rng([seed, _SCENE]))
    drawn = {"background": scene.background, "lighting": scene.lighting}
    if item.faces > 0:
        key = item.identity or f"anon:{item.seed}:0"
        rng = np.random.default_rng([seed, _FACE, 0])
        face = resolve_face(item.attributes, _identity(key), rng)
        drawn = {**face.attributes, **drawn}
    return {f: lv for f, lv in drawn.items() if f not in asked and f not in NEUTRAL}


def _with_variation(
    requested: Mapping[str, str], variation: Mapping[str, str], fault: str | None
) -> dict[str, str]:
    """The plan's declared variation under what is asked (an asked level wins). Under a
    wrong-attribute fault only the levels drawn from the image seed stay: the person's looks
    follow from the wrong level (an ethnicity's skin tones, an age's grey hair)."""
    asked = canonical_attributes(requested)
    keep = {
        f: lv
        for f, lv in variation.items()
        if f not in asked and (fault != "attribute_mismatch" or f in SEED_DRAWN)
    }
    return {**keep, **requested}


def _clip_box(box, size: int) -> tuple[float, float, float, float] | None:
    x0, y0, x1, y1 = (float(np.clip(v, 0, size)) for v in box)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return x0, y0, x1, y1


def _inside(pose: Pose, lay, size: int) -> Pose:
    """Nudge a face so its box lies inside the frame with a small margin."""
    x0, y0, x1, y1 = face_box(pose, lay)
    margin = size * 0.02
    dx = max(0.0, margin - x0) - max(0.0, x1 - (size - margin))
    dy = max(0.0, margin - y0) - max(0.0, y1 - (size - margin))
    if dx == 0 and dy == 0:
        return pose
    return Pose(pose.cx + dx, pose.cy + dy, pose.s, pose.yaw, pose.roll, pose.head_b)


def _cut_off(pose: Pose, lay, slot: _Slot, size: int, rng: np.random.Generator) -> Pose:
    """Push a face over the nearest frame edge so 35-55% of its box is outside."""
    x0, y0, x1, y1 = face_box(pose, lay)
    edges = []
    if slot.col == 0:
        edges.append("left")
    if slot.col == slot.cols - 1:
        edges.append("right")
    if slot.row == slot.rows - 1:
        edges.append("bottom")
    if slot.row == 0:
        edges.append("top")
    edge = edges[int(rng.integers(0, len(edges)))] if edges else "bottom"
    frac = rng.uniform(0.35, 0.55)
    w, h = x1 - x0, y1 - y0
    dx = dy = 0.0
    if edge == "left":
        dx = -(x0 + frac * w)
    elif edge == "right":
        dx = size - x1 + frac * w
    elif edge == "top":
        dy = -(y0 + frac * h)
    else:
        dy = size - y1 + frac * h
    return Pose(pose.cx + dx, pose.cy + dy, pose.s, pose.yaw, pose.roll, pose.head_b)


def _wrong_attribute(
    requested: Mapping[str, str], rng: np.random.Generator
) -> tuple[dict[str, str], str]:
    """A copy of `requested` with one understood factor set to a visibly different level."""
    canon = canonical_attributes(requested)
    factors = sorted(canon)
    factor = factors[int(rng.integers(0, len(factors)))]
    level = canon[factor]
    levels = list(FACTORS[factor])
    if factor == "skin_tone":
        k = int(level.split("_")[1])
        choices = [lv for lv in levels if abs(int(lv.split("_")[1]) - k) >= 4]
    elif factor == "age_group":
        k = levels.index(level)
        choices = [lv for i, lv in enumerate(levels) if abs(i - k) >= 2]
    elif factor == "ethnicity":
        lo, hi = ETHNICITY_SKIN_TONES[level]
        choices = [e for e, (a, b) in ETHNICITY_SKIN_TONES.items() if b < lo or a > hi]
    else:
        choices = [lv for lv in levels if lv != level]
    new_level = choices[int(rng.integers(0, len(choices)))]
    out = {k: v for k, v in requested.items()}
    named = factor
    if factor == "age_group" and not any(norm_level(k) == "age_group" for k in requested):
        named = next(k for k in requested if norm_level(k) in ("age", "age_years"))
        out.pop(named)
    else:
        for key in list(out):
            if norm_level(key) == factor:
                out.pop(key)
    if factor == "ethnicity":
        # a skin tone asked alongside would hide the change; the ethnicity range drives it
        for key in list(out):
            if norm_level(key) == "skin_tone":
                out.pop(key)
    out[factor] = new_level
    return out, named


def _passthrough(requested: Mapping[str, str], rendered: Mapping[str, str]) -> dict[str, str]:
    """Requested numeric age levels, kept when the rendered age group holds them."""
    out = {}
    group = rendered.get("age_group")
    for key, level in requested.items():
        if norm_level(key) in ("age", "age_years") and group:
            lo, hi = AGE_GROUP_YEARS[group]
            out[key] = level if age_group_of(str(level)) == group else f"{lo}-{hi - 1}"
    return out
