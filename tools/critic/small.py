"""Small images: how the critic judges faces of few pixels, and what it cannot judge.

dlib's HOG window is 80 px, and the face in a 64 px render is about 27 px, so faces are looked
for on an enlarged copy (`magnify`) and boxed with a correction fitted at that enlargement
(`landmark_correction`); quality is judged on the image's own pixels (`quality`).
Eyewear needs more pixels than detection: `eyewear_unread` says where a plan must not promise it.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from tools.contracts import CheckResult
from tools.critic import quality as qual
from tools.critic.faces import LANDMARK_BOX_CORRECTION, FaceObservation, face_box

#: Short side, in pixels, an image is enlarged to before faces are looked for: dlib's HOG
#: window is 80 px (about 50 px with `closer_look`), so the face in a 64 px render (about
#: 27 px) is found only on an enlarged copy; the critic's checks were set on 256 px renders.
MIN_ANALYSIS_SIDE = 256


def magnify(rgb: np.ndarray, min_side: int = MIN_ANALYSIS_SIDE) -> tuple[np.ndarray, float]:
    """`rgb` enlarged (bicubic) so that its short side is `min_side`, and the factor used.

    Images at least that big come back as they are (factor 1). Divide what is measured on
    the copy by the factor to get the image's own pixels.
    """
    short = min(rgb.shape[:2])
    if short >= min_side or short == 0:
        return rgb, 1.0
    factor = min_side / short
    size = (round(rgb.shape[1] * factor), round(rgb.shape[0] * factor))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC), factor


#: The landmark correction refitted on 64 px renders, whose faces are found on a copy
#: enlarged `SMALL_MAGNIFICATION` times (`magnify`): landmarks placed on a soft enlarged face
#: reach higher up the brow and less far to the right (bench/bench_critic.py --size 64).
SMALL_LANDMARK_BOX_CORRECTION: tuple[float, float, float, float] = (0.002, -0.14, -0.029, -0.015)
SMALL_MAGNIFICATION = 4.0


def landmark_correction(
    magnification: float, points: int = 68
) -> tuple[float, float, float, float] | None:
    """The box correction for 68-landmark faces found on a copy enlarged `magnification`
    times: between the 256 px fit and the 64 px one, by the magnification's logarithm (None:
    the built-in choice of `face_box`)."""
    if magnification <= 1.0 or points != 68:
        return None
    t = min(math.log(magnification) / math.log(SMALL_MAGNIFICATION), 1.25)
    return tuple(  # type: ignore[return-value]
        a + t * (b - a)
        for a, b in zip(LANDMARK_BOX_CORRECTION, SMALL_LANDMARK_BOX_CORRECTION, strict=True)
    )


#: Fewest pixels between the eye centres (the image's own, not an enlarged copy's) at which
#: eyewear is read: frames and lenses are a pixel or two wide below it. Clean renders with
#: 8-12 px read wrong 47-57% of the time, 14-16 px 15%, 20-24 px 3% and 30 px or more
#: never (bench/bench_critic.py --size 64 to 256). A one-face render's eyes are about 0.175
#: of its side apart, so a 64 px image's are 11 px and eyewear is not judged there.
MIN_EYEWEAR_IOD = 20.0
#: Eye distance over the image side of a one-face render, and of the faces of a render with
#: several (medians, bench/bench_critic.py at 64 to 256 px).
EYE_SHARE_ONE, EYE_SHARE_MANY = 0.175, 0.12


def eyewear_unread(image_size: int, faces: int = 1) -> str:
    """Why the critic does not judge eyewear on the typical face of a render `image_size` px
    square with up to `faces` faces ('' when it does): what a plan must say before it runs."""
    apart = image_size * (EYE_SHARE_ONE if faces <= 1 else EYE_SHARE_MANY)
    if apart >= MIN_EYEWEAR_IOD:
        return ""
    return (f"the critic reads eyewear on faces at least {MIN_EYEWEAR_IOD:.0f} px between the "
            f"eyes, about {apart:.0f} at {image_size} px")


def quality(
    analysed: np.ndarray, native: np.ndarray | None, face: FaceObservation | None,
    limits: qual.QualityThresholds, *, framed: bool = False,
) -> tuple[list[CheckResult], dict[str, float]]:
    """Quality checks on the image's own pixels (`native`, when `analysed` is an enlarged
    copy: that is softer and its noise smoothed, so it would look blurry and clean whatever
    the image is), on the face as the 256 px correction frames it at every size: the small
    image correction frames labels closer to the truth but crops the brow line, and the
    sharpness limits were set with it in. `framed`: a configured correction frames it."""
    view = analysed if native is None else native
    box = None
    if face is not None:
        found = face.box if framed else face_box(face.hog_box, face.landmarks)
        factor = view.shape[1] / analysed.shape[1]
        h, w = view.shape[:2]
        x0, y0, x1, y1 = (v * factor for v in found)
        box = (max(x0, 0.0), max(y0, 0.0), min(x1, float(w)), min(y1, float(h)))
    return qual.assess(view, box, limits)
