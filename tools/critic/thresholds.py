"""The limits every attribute reading of the critic is decided by, one pydantic block.

Read by `attributes` and `eye_region` alike (and configured through `CriticConfig.attribute`),
so it sits below both.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class AttributeThresholds(BaseModel):
    """Decision limits on the landmark and colour measurements (see `faces.geometry`).

    Most measurements have a grey zone between two limits where the critic says nothing
    (the attribute is then not judged): it only contradicts a request on clear evidence.
    """

    skin_tone_tolerance: int = Field(default=2, ge=0, le=9)
    """A measured Monk level this many levels from the requested one still verifies it: ITA
    from an uncalibrated picture moves with exposure (dark skin exposed for the face reads
    one or two levels lighter); wrong-skin-tone faults are four levels or more away."""
    skin_ita_tolerance: float = Field(default=20.0, ge=0)
    """...as does an ITA within this many degrees of the requested level's reference (the
    light end of the scale is only a few degrees per level)."""
    skin_percentile: float = Field(default=75.0, ge=0, le=100)
    """Lightness percentile of the cheek pixels read as the skin's colour (the lit side)."""
    eyes_closed_ear: float = 0.22
    """Eye aspect ratio below which the eyes are closed (when no white of the eye shows)."""
    eyes_open_ear: float = 0.30
    """Eye aspect ratio above which open eyes are confirmed by the iris or the white of the eye."""
    closed_iris: float = 0.14
    open_iris: float = 0.15
    """Height of the darkest blob in the eye (iris and pupil when open, the lash line when
    closed) over the inter-ocular distance: below closed_iris closed, above open_iris open."""
    closed_iris_ear: float = 0.28
    """A thin dark blob says closed only below this eye aspect ratio: a brown iris on dark
    skin barely stands out, and the blob then shrinks to the pupil."""
    sclera_margin: float = 30.0
    sclera_open: float = 0.03
    """Pixels this many grey levels brighter than the lit cheek are the white of the eye; a
    run of them taller than sclera_open IODs means the eye is open (no closed lid shows it)."""
    frontal_yaw: float = 0.06
    turned_yaw: float = 0.13
    """|yaw| below frontal_yaw is frontal, above turned_yaw is turned (nose offset / IOD)."""
    tilted_roll: float = 8.0
    """Degrees of eye-line roll above which a frontal head is tilted."""
    surprise_open: float = 0.2
    surprise_width: float = 0.75
    """An open mouth (inner-lip gap over width) narrower than this many IODs: surprise."""
    smile_lift: float = 0.09
    sad_curve: float = 0.07
    sad_open: float = 0.05
    """A frown reads as sad only with the lips closed (teeth between them bend the line)."""
    neutral_lift: float = 0.05
    neutral_open: float = 0.1
    neutral_curve: float = 0.04
    lens_dark: float = 0.35
    lens_dark_flat: float = 0.9
    """Brightness inside the lenses (75th percentile) over the cheeks', both measured above
    the face's black point, below lens_dark, with the lenses' texture (below) under
    lens_dark_flat (thick clear frames darken the window but leave the eye's edges): dark
    lenses..."""
    lens_dim: float = 0.5
    lens_flat: float = 0.45
    """...or below lens_dim and flat: median gradient over the cheeks' brightness above the
    black point below lens_flat (no white of the eye, iris or lash line shows through)."""
    clear_level: float = 0.7
    clear_texture: float = 0.75
    """Lenses neither dark nor at least this bright or this textured are not judged: a glint
    on dark lenses, or landmarks off the eyes, leaves them in between."""
    bridge_edges: float = 3.3
    rim_edges: float = 4.5
    """Horizontal edge strength over the nose bridge / under the eyes, over the cheeks' own
    texture: frames are seen when both exceed these..."""
    bridge_strong: float = 5.0
    rim_strong: float = 20.0
    rim_strong_bridge: float = 2.0
    """...or either exceeds its strong limit, a strong rim with at least rim_strong_bridge
    over the bridge (under the eyes of the darkest skin a lower lid can edge as strongly as
    a rim: 2 of 300 bare monk_10 faces read as glasses, and no real frames lost)."""
    bare_bridge: float = 2.8
    bare_rim: float = 6.0
    """Below both of these there are no frames; between the limits nothing is claimed."""
