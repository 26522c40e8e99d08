"""The eye regions' rules: open or closed eyes from the lids, iris and white; frames from edges."""

from __future__ import annotations

import numpy as np

from tools.critic import eye_region as er
from tools.critic.attributes import AttributeThresholds

LIMITS = AttributeThresholds()


def _eyes_face(ear: float):
    from tools.critic.faces import FaceObservation

    return FaceObservation(box=(0, 0, 1, 1), hog_box=(0, 0, 1, 1), score=1.0,
                           landmarks=np.zeros((68, 2)), geometry={"ear": ear})


def test_eyes_rules_weigh_the_white_of_the_eye():
    wide, narrow = _eyes_face(0.45), _eyes_face(0.2)
    # a thin dark blob alone no longer closes wide-open lids (a brown iris on dark skin)
    assert er.eyes(wide, LIMITS, iris=0.1, sclera=0.0) is None
    assert er.eyes(wide, LIMITS, iris=0.1, sclera=0.08) == "open"
    assert er.eyes(wide, LIMITS, iris=0.2, sclera=0.0) == "open"
    assert er.eyes(narrow, LIMITS, iris=0.1, sclera=0.0) == "closed"
    assert er.eyes(narrow, LIMITS, iris=0.1, sclera=0.08) is None  # white shows: unsure
    assert er.eyes(_eyes_face(0.26), LIMITS, iris=0.1, sclera=0.0) == "closed"


def test_frames_need_edges_over_the_bridge_or_strong_ones_under_both_eyes():
    assert er.frames(bridge=6.0, rim=1.0, limits=LIMITS) is True  # a strong bridge
    assert er.frames(bridge=3.5, rim=5.0, limits=LIMITS) is True  # both
    assert er.frames(bridge=2.5, rim=24.0, limits=LIMITS) is True  # strong rims, some bridge
    # strong edges under the eyes alone: a lower lid on the darkest skin edges like a rim
    assert er.frames(bridge=1.5, rim=24.0, limits=LIMITS) is None
    assert er.frames(bridge=1.5, rim=3.0, limits=LIMITS) is False
