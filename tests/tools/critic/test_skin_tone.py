"""Skin tone from pixels: the Individual Typology Angle and the Monk scale."""

from __future__ import annotations

import numpy as np
import pytest

from tests.tools.face_photos import main_face, portrait
from tools.critic import skin_tone as st


def test_monk_reference_angles_fall_from_light_to_dark():
    assert all(a > b for a, b in zip(st.MONK_ITA, st.MONK_ITA[1:], strict=False))
    for level, angle in enumerate(st.MONK_ITA, start=1):
        assert st.monk_level(angle) == level
    assert st.monk_level(90.0) == 1 and st.monk_level(-90.0) == 10


def test_ita_of_known_colours():
    # L* 50 is the zero of the angle; lighter is positive, darker negative
    assert st.ita(np.array([50.0, 10.0, 20.0])) == pytest.approx(0.0)
    assert st.ita(np.array([70.0, 10.0, 20.0])) == pytest.approx(45.0)
    assert st.ita(np.array([30.0, 10.0, 20.0])) == pytest.approx(-45.0)


def test_skin_tone_moves_with_the_skin():
    rgb = portrait()
    face = main_face(rgb)
    light = st.skin_ita(rgb, face)
    darker = (rgb.astype(np.float32) * np.array([0.55, 0.45, 0.38])).astype(np.uint8)
    dark = st.skin_ita(darker, face)
    assert light is not None and dark is not None
    assert dark < light - 40
    assert st.monk_level(dark) > st.monk_level(light)


def test_a_blue_mask_over_the_cheeks_is_not_read_as_skin():
    rgb = portrait()
    face = main_face(rgb)
    covered = rgb.copy()
    covered[st.skin_mask(rgb.shape, face) > 0] = (150, 190, 225)
    assert st.skin_ita(covered, face) is None
