"""Synthetic identities: stable face geometry and appearance derived from an identity string.

The same identity string always yields the same person (face shape, eye spacing, nose, mouth,
brows, lips, cheekbones, default skin tone, hair, eye colour, marks), so an identity dataset
can show one person as a child and as an old man: age and the plan's attributes change, these
parameters do not (age is applied on top of them, see `tools.generate.face_geometry.make_layout`).

Ranges are wide enough for dlib's face descriptor to tell people apart, yet the traits that
a HOG face detector leans on (head outline, eye line and spacing) move least: the wider
spreads are in the nose, mouth, lips, eye shape and brow shape (bench/bench_render.py and
bench/bench_identity_separability.py measure both sides).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Identity:
    """Geometry in face units (the head half-width is 1) and appearance defaults."""

    key: str
    # head shape
    head_b: float  # head half-height (crown to chin is 2 * head_b)
    jaw: float  # jaw half-width at the mouth line, relative to the cheek width
    chin: float  # chin half-width
    # eyes
    eye_dx: float  # eye centre distance from the midline
    eye_w: float  # eye half-width
    eye_h: float  # eye half-opening
    eye_tilt: float  # outer corner lift
    eye_y: float  # eye line offset
    # brows
    brow_thick: float
    brow_arch: float
    brow_gap: float  # brow height above the eye centre
    # nose and mouth
    nose_y: float  # nose tip height below the eye line
    nose_w: float
    mouth_y: float  # mouth line below the eye line
    mouth_w: float
    lip_upper: float
    lip_lower: float
    ear_size: float
    # hair
    hairline: float  # hairline height above the eye line (positive is up)
    hair_part: float  # -1..1, where the parting sits
    hair_volume: float
    # appearance defaults (used when the plan does not ask for a level)
    skin_u: float  # 0..1 position inside a skin-tone range
    undertone: float  # -1 cool .. 1 warm
    gender_u: float
    hair_color_u: float
    hair_style_u: float
    eye_color_u: float
    age_u: float
    beard_u: float
    glasses_round: bool
    freckles: bool
    moles: tuple[tuple[float, float], ...]
    # finer traits: shape details the face descriptor reads
    brow_len: float = 1.0  # brow length factor
    brow_slant: float = 0.0  # outer end lower (positive) or higher (negative)
    brow_tone: float = 0.6  # brow darkness: share of the hair colour kept
    lid_crease: float = 1.0  # 0 a hooded lid without a visible fold .. 1 a clear double lid
    iris: float = 1.0  # iris size factor
    nose_bridge: float = 0.08  # bridge half-width (where its shadow line runs)
    nose_tip: float = 1.0  # tip roundness
    nostril: float = 1.0  # nostril size factor
    lip_bow: float = 0.012  # depth of the Cupid's bow
    lip_tint: float = 0.0  # -1 paler .. 1 redder lips
    cheek: float = 0.1  # depth of the hollow under the cheekbones
    chin_h: float = 0.06  # how far the chin rounds below the jaw line
    chin_cleft: bool = False


#: Uniform ranges of the continuous traits, in the order they are drawn from the identity's
#: random stream (appending keeps every earlier trait of an existing identity in place).
TRAITS: dict[str, tuple[float, float]] = {
    "head_b": (1.32, 1.47),
    "jaw": (0.74, 0.92),
    "chin": (0.24, 0.44),
    "eye_dx": (0.345, 0.455),
    "eye_w": (0.16, 0.205),
    "eye_h": (0.07, 0.092),
    "eye_tilt": (-0.04, 0.06),
    "eye_y": (-0.04, 0.04),
    "brow_thick": (0.05, 0.08),
    "brow_arch": (0.0, 0.125),
    "brow_gap": (0.175, 0.235),
    "nose_y": (0.36, 0.6),
    "nose_w": (0.14, 0.28),
    "philtrum": (0.22, 0.41),  # mouth line below the nose tip
    "mouth_w": (0.22, 0.42),
    "lip_upper": (0.032, 0.07),
    "lip_lower": (0.042, 0.1),
    "ear_size": (0.26, 0.34),
    "hairline": (0.62, 0.8),
    "hair_part": (-0.6, 0.6),
    "hair_volume": (0.06, 0.14),
    "skin_u": (0.0, 1.0),
    "undertone": (-1.0, 1.0),
    "gender_u": (0.0, 1.0),
    "hair_color_u": (0.0, 1.0),
    "hair_style_u": (0.0, 1.0),
    "eye_color_u": (0.0, 1.0),
    "age_u": (0.0, 1.0),
    "beard_u": (0.0, 1.0),
}
#: Finer traits, drawn after the flags (glasses shape, freckles).
FINE_TRAITS: dict[str, tuple[float, float]] = {
    "brow_len": (0.85, 1.0),
    "brow_slant": (-0.045, 0.03),
    "brow_tone": (0.35, 0.7),
    "lid_crease": (0.5, 1.0),
    "iris": (0.88, 1.1),
    "nose_bridge": (0.055, 0.11),
    "nose_tip": (0.8, 1.4),
    "nostril": (0.7, 1.35),
    "lip_bow": (0.0, 0.024),
    "lip_tint": (-1.0, 1.0),
    "cheek": (0.0, 0.26),
    "chin_h": (0.035, 0.1),
}
#: Share of people with a cleft chin.
CHIN_CLEFT_RATE = 0.15


def identity_seed(key: str) -> int:
    """A 64-bit seed from an identity string (stable across processes and platforms)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "little")


def make_identity(key: str) -> Identity:
    """The synthetic person called `key`; the same key always gives the same person."""
    rng = np.random.default_rng(identity_seed(key))
    n_moles = int(rng.integers(0, 3))
    moles = tuple(
        (float(rng.uniform(-0.7, 0.7)), float(rng.uniform(0.1, 0.9))) for _ in range(n_moles)
    )
    traits = {name: float(rng.uniform(lo, hi)) for name, (lo, hi) in TRAITS.items()}
    glasses_round = bool(rng.integers(0, 2))
    freckles = bool(rng.uniform() < 0.12)
    fine = {name: float(rng.uniform(lo, hi)) for name, (lo, hi) in FINE_TRAITS.items()}
    chin_cleft = bool(rng.uniform() < CHIN_CLEFT_RATE)
    traits["mouth_y"] = traits["nose_y"] + traits.pop("philtrum")
    return Identity(key=key, glasses_round=glasses_round, freckles=freckles, moles=moles,
                    chin_cleft=chin_cleft, **traits, **fine)
