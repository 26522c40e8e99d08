"""From a plan item's attributes to what the procedural renderer will draw.

Every canonical factor gets a level: the one the plan asked for; else, for what a person wears
or a defect-like state (eyewear, hat, mask, closed eyes), its neutral level (`unasked: neutral`
in factors.yaml: nothing is drawn that the plan does not say); else a level drawn from the
identity (skin tone, gender, hair, eye colour, facial hair, age) or from the image seed (expression,
pose, background, lighting), which the plan item declares in its `variation`. Random draws happen in
a fixed order whatever the attributes are, so changing one attribute of an item changes only
that attribute in the picture.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from tools.generate.people import Identity
from tools.vocabulary import (
    ADULT_ONLY,
    ETHNICITY_SKIN_TONES,
    FACTORS,
    NEUTRAL,
    VOCABULARY,
    age_group_at,
    prior,
)

#: Monk Skin Tone scale swatches (sRGB), monk_1 lightest to monk_10 darkest.
MONK_RGB: dict[str, tuple[int, int, int]] = {
    "monk_1": (246, 237, 228),
    "monk_2": (243, 231, 219),
    "monk_3": (247, 234, 208),
    "monk_4": (234, 218, 186),
    "monk_5": (215, 189, 150),
    "monk_6": (160, 126, 86),
    "monk_7": (130, 92, 67),
    "monk_8": (96, 65, 52),
    "monk_9": (58, 49, 42),
    "monk_10": (41, 36, 32),
}
HAIR_RGB: dict[str, tuple[int, int, int]] = {
    "black": (28, 24, 22),
    "brown": (92, 60, 36),
    "blond": (212, 176, 108),
    "red": (158, 72, 36),
    "grey": (150, 148, 145),
    "white": (226, 224, 218),
}
IRIS_RGB: dict[str, tuple[int, int, int]] = {
    "brown": (96, 58, 30),
    "blue": (70, 125, 185),
    "green": (76, 135, 78),
    "hazel": (140, 104, 52),
    "grey": (128, 140, 152),
}
#: Light direction (x right, y down, z toward the camera) per lighting level.
LIGHT_DIR: dict[str, tuple[float, float, float]] = {
    "front": (0.0, -0.35, 1.0),
    "left": (-0.7, -0.25, 0.7),
    "right": (0.7, -0.25, 0.7),
    "top": (0.0, -0.7, 0.75),
}
#: Factors drawn from the image seed; the others follow from the person (their looks): the
#: identity-scoped ones and those whose prior depends on the person (hair style on gender).
SEED_DRAWN: tuple[str, ...] = tuple(
    f for f, v in VOCABULARY.items() if v.scope == "image" and v.prior_given is None
)
#: The image-level factors of one face, in the order of their draws from the image seed.
_FACE_DRAWS = ("expression", "eyes", "head_pose", "eyewear", "hat", "mask")

_NUM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?))?")


@dataclass
class FaceSpec:
    """Everything needed to draw one face; `attributes` is its ground truth."""

    identity: Identity
    attributes: dict[str, str]
    yaw: float  # degrees, positive turns the face toward the image right
    roll: float  # degrees, positive rotates clockwise in the image
    hair_grey: float  # 0..1 blend toward grey/white
    beard: str  # the facial_hair level: none | stubble | moustache | beard
    hat_style: int
    hat_rgb: tuple[int, int, int]
    mask_rgb: tuple[int, int, int]
    frame_rgb: tuple[int, int, int]
    cloth_rgb: tuple[int, int, int]
    gaze: float  # iris shift, -1..1 of the room in the eye
    identity_key: str | None = None


@dataclass
class SceneSpec:
    """One image: the background, the light and the faces."""

    background: str
    lighting: str
    bg_rgb: tuple[tuple[int, int, int], tuple[int, int, int]]
    bg_layout: tuple[float, ...]
    faces: list[FaceSpec] = field(default_factory=list)
    photo: tuple[float, ...] | None = None
    """Draws that place a real photograph's texture (`tools.generate.photos`); None: flat."""


def norm_level(value: str) -> str:
    """Lower-case snake form, so 'Young adult' and 'young-adult' meet 'young_adult'."""
    return re.sub(r"[\s\-]+", "_", value.strip().lower())


def canonical_attributes(requested: Mapping[str, str]) -> dict[str, str]:
    """The requested levels of factors the renderer draws, with aliases resolved.

    Numeric age levels ('4-12', '70') become an age group when no age group is asked for,
    skin tones written as '5' or 'mst_5' become 'monk_5'. Unknown factors and levels are
    left out: they only shape prompts.
    """
    out: dict[str, str] = {}
    for raw_factor, raw_level in requested.items():
        factor = norm_level(raw_factor)
        level = norm_level(str(raw_level))
        if factor == "skin_tone":
            digits = re.sub(r"^(monk|mst)_?", "", level)
            level = f"monk_{digits}" if digits.isdigit() else level
        if factor in FACTORS and level in FACTORS[factor]:
            out[factor] = level
    if "age_group" not in out:
        for raw_factor, raw_level in requested.items():
            if norm_level(raw_factor) in ("age", "age_years") and (
                group := age_group_of(str(raw_level))
            ):
                out["age_group"] = group
    return out


def age_group_of(level: str) -> str | None:
    """The age group holding the middle of a numeric age level such as '4-12'."""
    match = _NUM.match(level)
    if not match:
        return None
    low = float(match.group(1))
    high = float(match.group(2)) if match.group(2) else low
    return age_group_at((low + high) / 2)


def _pick(u: float, levels: tuple[str, ...], weights: tuple[float, ...]) -> str:
    cum = np.cumsum(weights) / sum(weights)
    return levels[min(int(np.searchsorted(cum, u, side="right")), len(levels) - 1)]


def _rgb(v: np.ndarray) -> tuple[int, int, int]:
    return int(v[0]), int(v[1]), int(v[2])


def _level(levels: Mapping[str, str], factor: str, u: float, given: str | None = None) -> str:
    """The level asked for, else the factor's neutral level, else one drawn from its prior."""
    return levels.get(factor) or NEUTRAL.get(factor) or _pick(u, *prior(factor, given))


def _looks(req: Mapping[str, str], ident: Identity) -> tuple[dict[str, str], float]:
    """The person's identity-stable levels and the grey blend of their hair."""
    attrs: dict[str, str] = {}
    if "skin_tone" in req:
        attrs["skin_tone"] = req["skin_tone"]
    else:
        lo, hi = ETHNICITY_SKIN_TONES.get(req.get("ethnicity", ""), (1, len(FACTORS["skin_tone"])))
        attrs["skin_tone"] = f"monk_{lo + min(int(ident.skin_u * (hi - lo + 1)), hi - lo)}"
    if "ethnicity" in req:
        attrs["ethnicity"] = req["ethnicity"]
    attrs["gender"] = _person_level(req, "gender", ident.gender_u)
    attrs["age_group"] = _person_level(req, "age_group", ident.age_u)
    age = VOCABULARY["age_group"].levels[attrs["age_group"]]
    style = _level(req, "hair_style", ident.hair_style_u, attrs["gender"])
    young_bald = style == "bald" and age.minor and "hair_style" not in req
    attrs["hair_style"] = "short" if young_bald else style
    shade = VOCABULARY["skin_tone"].levels[attrs["skin_tone"]].shade
    own = _pick(ident.hair_color_u, *prior("hair_color", shade))
    grey = age.hair_grey
    if grey >= 0.5:
        own = "white" if grey > 0.8 else "grey"
    # the person's own colour, greyed by age, unless another is asked: a plan item that
    # declares the colour the person has anyway (its `variation`) draws the same hair
    attrs["hair_color"] = req.get("hair_color", own)
    if attrs["hair_color"] != own:
        grey = 0.0
    attrs["eye_color"] = _level(req, "eye_color", ident.eye_color_u, shade)
    attrs["facial_hair"] = _level(req, "facial_hair", ident.beard_u, attrs["gender"])
    if age.minor:  # levels drawn on adults only are never drawn on minors, asked or not
        for factor, adult in ADULT_ONLY.items():
            if attrs.get(factor) in adult:
                attrs[factor] = str(VOCABULARY[factor].rest)
    return attrs, grey


def _person_level(req: Mapping[str, str], factor: str, u: float) -> str:
    """A gender or age group: the one asked, else one drawn from the prior narrowed to the
    levels that can carry every asked level (a beard asks for an adult man), so what is asked
    is drawn as asked; when none can, the whole prior."""
    if factor in req:
        return req[factor]
    levels, weights = prior(factor)
    keep = [i for i, level in enumerate(levels) if _carries(req, factor, level)]
    if keep and len(keep) < len(levels):
        levels, weights = tuple(levels[i] for i in keep), tuple(weights[i] for i in keep)
    return _pick(u, levels, weights)


def _carries(req: Mapping[str, str], factor: str, level: str) -> bool:
    """Whether a person of `level` (a gender, an age group) can carry the asked levels: no
    level of weight zero in their gender's prior, no adults-only level on a minor."""
    if factor == "age_group" and VOCABULARY["age_group"].levels[level].minor:
        return not any(lv in ADULT_ONLY.get(f, ()) for f, lv in req.items())
    if factor != "gender":
        return True
    for f, lv in req.items():
        weight = VOCABULARY[f].levels[lv].prior if VOCABULARY[f].prior_given == "gender" else None
        if isinstance(weight, dict) and not weight.get(level, 1.0):
            return False
    return True


def _pose(pose: str, v: np.ndarray) -> tuple[float, float]:
    """(yaw, roll) in degrees for a head pose level."""
    yaw = float(-5 + 10 * v[6])
    roll = float(-4 + 8 * v[7])
    if pose in ("left", "right"):
        yaw = (16 + 10 * v[6]) * (-1 if pose == "left" else 1)
    elif pose == "tilted":
        roll = (12 + 8 * v[7]) * (1 if v[8] < 0.5 else -1)
    return yaw, roll


_HAT_PALETTE = np.array([[40, 40, 48], [150, 30, 35], [30, 60, 120], [200, 180, 140],
                         [60, 90, 50], [230, 230, 230]])
_MASK_PALETTE = np.array([[150, 190, 222], [236, 236, 236], [120, 150, 200], [200, 215, 230],
                          [40, 40, 44]])
_FRAME_PALETTE = np.array([[20, 20, 22], [90, 50, 30], [150, 150, 158], [30, 30, 80]])


def resolve_face(
    requested: Mapping[str, str], ident: Identity, rng: np.random.Generator
) -> FaceSpec:
    """Levels for every canonical factor plus the continuous parameters of one face."""
    req = canonical_attributes(requested)
    v = rng.random(24)  # fixed number of draws: attributes change only what they name
    attrs, grey = _looks(req, ident)
    for k, factor in enumerate(_FACE_DRAWS):
        attrs[factor] = _level(req, factor, v[k])
    yaw, roll = _pose(attrs["head_pose"], v)
    return FaceSpec(
        identity=ident,
        attributes=attrs,
        yaw=yaw,
        roll=roll,
        hair_grey=grey,
        beard=attrs["facial_hair"],
        hat_style=int(v[9] * 3),
        hat_rgb=_rgb(_HAT_PALETTE[int(v[10] * len(_HAT_PALETTE))]),
        mask_rgb=_rgb(_MASK_PALETTE[int(v[11] * len(_MASK_PALETTE))]),
        frame_rgb=_rgb(_FRAME_PALETTE[int(v[12] * len(_FRAME_PALETTE))]),
        cloth_rgb=_rgb(40 + 180 * np.array([v[13], v[14], v[15]])),
        gaze=float(-0.25 + 0.5 * v[16]),
        identity_key=None,
    )


def resolve_scene(
    requested: Mapping[str, str], rng: np.random.Generator, photo_share: float = 0.0
) -> SceneSpec:
    """Background and lighting for the whole image (shared by all its faces); a share
    `photo_share` of scenes carry a real photograph's texture (drawn last: the rest of the
    scene is the same with or without it)."""
    req = canonical_attributes(requested)
    v = rng.random(16)
    background = _level(req, "background", v[0])
    lighting = _level(req, "lighting", v[1])
    hue = rng.random((2, 3))
    first = 35 + 200 * hue[0]
    second = 35 + 200 * hue[1]
    photo = rng.random(13)
    return SceneSpec(
        background=background,
        lighting=lighting,
        bg_rgb=(_rgb(first), _rgb(second)),
        bg_layout=tuple(float(x) for x in v[2:]),
        photo=tuple(float(x) for x in photo[1:]) if photo[0] < photo_share else None,
    )
