"""Synthetic identities: stable face geometry and appearance derived from an identity string.

The same identity string always yields the same person (face shape, eye spacing, nose, mouth,
default skin tone, hair, eye colour, marks), so an identity dataset can show one person as a
child and as an old man: age and the plan's attributes change, these parameters do not.
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


def identity_seed(key: str) -> int:
    """A 64-bit seed from an identity string (stable across processes and platforms)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "little")


def make_identity(key: str) -> Identity:
    """The synthetic person called `key`; the same key always gives the same person."""
    rng = np.random.default_rng(identity_seed(key))
    u = rng.uniform

    def between(lo: float, hi: float) -> float:
        return float(u(lo, hi))

    n_moles = int(rng.integers(0, 3))
    moles = tuple(
        (float(u(-0.7, 0.7)), float(u(0.1, 0.9))) for _ in range(n_moles)
    )
    return Identity(
        key=key,
        head_b=between(1.28, 1.42),
        jaw=between(0.74, 0.9),
        chin=between(0.26, 0.42),
        eye_dx=between(0.37, 0.43),
        eye_w=between(0.162, 0.198),
        eye_h=between(0.074, 0.092),
        eye_tilt=between(-0.02, 0.035),
        eye_y=between(-0.04, 0.04),
        brow_thick=between(0.055, 0.085),
        brow_arch=between(0.02, 0.07),
        brow_gap=between(0.2, 0.25),
        nose_y=between(0.42, 0.52),
        nose_w=between(0.15, 0.21),
        mouth_y=between(0.74, 0.84),
        mouth_w=between(0.27, 0.35),
        lip_upper=between(0.04, 0.06),
        lip_lower=between(0.05, 0.08),
        ear_size=between(0.26, 0.34),
        hairline=between(0.62, 0.8),
        hair_part=between(-0.6, 0.6),
        hair_volume=between(0.06, 0.14),
        skin_u=between(0.0, 1.0),
        undertone=between(-1.0, 1.0),
        gender_u=between(0.0, 1.0),
        hair_color_u=between(0.0, 1.0),
        hair_style_u=between(0.0, 1.0),
        eye_color_u=between(0.0, 1.0),
        age_u=between(0.0, 1.0),
        beard_u=between(0.0, 1.0),
        glasses_round=bool(rng.integers(0, 2)),
        freckles=bool(u() < 0.12),
        moles=moles,
    )
