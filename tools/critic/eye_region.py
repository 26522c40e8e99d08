"""What the eye regions of a face show: eyewear (none, glasses, sunglasses) and whether the
eyes are open or closed.

Both are read in the same windows around the eye landmarks and against the same reference,
the face's bare cheeks (`skin_tone.cheek_skin`); behind lenses the eyes are not judged
(`attributes.measure` decides that from what is read here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from tools.critic.faces import FaceObservation

if TYPE_CHECKING:
    from tools.critic.thresholds import AttributeThresholds

_GLINT = np.ones((3, 1), dtype=np.uint8)


def eyewear(
    rgb: np.ndarray, face: FaceObservation, limits: AttributeThresholds, cheeks: np.ndarray
) -> tuple[str | None, dict[str, float]]:
    """none / glasses / sunglasses from the eye regions against the cheeks (`cheek_skin`).

    Frames put strong horizontal edges over the nose bridge and under the eyes, where bare
    skin is smooth (edge strength is divided by the cheeks' own texture, so skin tone and
    contrast cancel). Dark lenses make the eye regions much darker than the cheeks. With
    the cheeks covered there is no reference (a white face mask made bare eyes read as dark
    lenses) and nothing is claimed.
    """
    if not face.has_68:
        return None, {}
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    m = face.landmarks
    iod = face.geometry.get("iod", 0.0)
    cheek = gray[cheeks]
    if len(cheek) < 20 or iod <= 0:
        return None, {}
    # frames are read on the strongest colour channel; bare skin must be bare in grey too
    bridge, rim = _frame_edges(colour_edges(rgb), m, iod, cheeks)
    grey = _frame_edges(np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)), m, iod, cheeks)
    # levels are read above the face's black point (its darkest percent: dark lenses, pupils,
    # brows): a dark lens is near that floor whatever the skin, while the lens over the
    # cheek ratio alone stays high on the darkest skin (about 0.45 on monk_10 against 0.15)
    black = float(np.percentile(gray[_box_slices(face.box, gray.shape)], 1))
    skin = max(float(np.median(cheek)) - black, 1.0)
    magnitude = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    lens = np.concatenate([gray[_lens(m[36:42], iod)].ravel(), gray[_lens(m[42:48], iod)].ravel()])
    lens_grad = np.concatenate(
        [magnitude[_lens(m[36:42], iod)].ravel(), magnitude[_lens(m[42:48], iod)].ravel()]
    )
    if lens.size < 4:
        return None, {}
    lens_level = (float(np.percentile(lens, 75)) - black) / skin
    lens_texture = float(np.median(lens_grad)) / skin
    figures = {"lens_level": lens_level, "lens_texture": lens_texture,
               "bridge_edges": bridge, "rim_edges": rim}
    if (lens_level < limits.lens_dark and lens_texture < limits.lens_dark_flat) or (
        lens_level < limits.lens_dim and lens_texture < limits.lens_flat
    ):
        return "sunglasses", figures
    if dim_lenses(figures, limits):
        return None, figures
    seen = frames(bridge, rim, limits)
    if seen is False and frames(*grey, limits) is not False:
        seen = None
    return ("glasses" if seen else "none" if seen is False else None), figures


def _frame_edges(
    edges: np.ndarray, m: np.ndarray, iod: float, cheeks: np.ndarray
) -> tuple[float, float]:
    """Edge strength over the nose bridge and under the eyes, over the cheeks' own texture."""
    texture = float(np.percentile(edges[cheeks], 75)) + 1.0
    inner_l, inner_r = m[39, 0], m[42, 0]
    gap = inner_r - inner_l
    eye_line = (m[39, 1] + m[42, 1]) / 2.0
    bridge = _edge_strength(
        edges, (eye_line - 0.2 * iod, eye_line + 0.05 * iod),
        (inner_l + 0.15 * gap, inner_r - 0.15 * gap),
    ) / texture
    rims = []
    for eye in (m[36:42], m[42:48]):
        low = eye[:, 1].max()
        rims.append(_edge_strength(
            edges, (low + 0.05 * iod, low + 0.4 * iod), (eye[:, 0].min(), eye[:, 0].max())
        ) / texture)
    rim = float(np.mean(rims))
    return bridge, rim


def colour_edges(rgb: np.ndarray) -> np.ndarray:
    """Horizontal edge strength, the strongest over the three colour channels.

    A coloured frame differs from the skin in hue as much as in lightness: a dark red frame
    on the darkest skin barely edges in grey (it read as no frames), but does in red.
    """
    channels = cv2.split(rgb.astype(np.float32))
    return np.max([np.abs(cv2.Sobel(c, cv2.CV_32F, 0, 1, ksize=3)) for c in channels], axis=0)


def frames(bridge: float, rim: float, limits: AttributeThresholds) -> bool | None:
    """Whether frames show, from the bridge and rim edge strengths (None: unsure)."""
    if (bridge > limits.bridge_edges and rim > limits.rim_edges) or (
        bridge > limits.bridge_strong
        or (rim > limits.rim_strong and bridge > limits.rim_strong_bridge)
    ):
        return True
    if bridge < limits.bare_bridge and rim < limits.bare_rim:
        return False
    return None


def dim_lenses(figures: dict[str, float], limits: AttributeThresholds) -> bool:
    """Whether the eye regions read neither clear nor dark (see `AttributeThresholds`)."""
    level, texture = figures.get("lens_level"), figures.get("lens_texture")
    return level is not None and texture is not None and (
        level < limits.clear_level and texture < limits.clear_texture
    )


def sclera_height(
    gray: np.ndarray, face: FaceObservation, margin: float, cheeks: np.ndarray
) -> float | None:
    """Height of the white of the eye over the inter-ocular distance (0 for a closed lid).

    The white of an open eye is far brighter than the skin around it (`cheek_skin`) on
    darker skin, where the iris hardly stands out; on the lightest skin it reads 0 and the
    iris decides.
    """
    if not face.has_68:
        return None
    iod = face.geometry.get("iod", 0.0)
    if iod <= 0 or not cheeks.any():
        return None
    bright = float(np.percentile(gray[cheeks], 75)) + margin
    heights = []
    for eye in (face.landmarks[36:42], face.landmarks[42:48]):
        rows, cols = _eye_window(eye, iod, 0.5)
        region = gray[rows, cols]
        if region.size < 4:
            continue
        white = cv2.morphologyEx((region > bright).astype(np.uint8), cv2.MORPH_CLOSE, _GLINT)
        heights.append(_longest_run(white > 0) / iod)
    return float(np.mean(heights)) if heights else None


def iris_height(gray: np.ndarray, face: FaceObservation) -> float | None:
    """Height of the darkest blob in the middle of each eye, over the inter-ocular distance.

    An open eye shows a round iris and pupil; a closed one only the thin line of the lashes.
    """
    if not face.has_68:
        return None
    iod = face.geometry.get("iod", 0.0)
    heights = []
    for eye in (face.landmarks[36:42], face.landmarks[42:48]):
        region = gray[_eye_window(eye, iod, 0.3)]
        if region.size < 4:
            continue
        cut = (np.percentile(region, 5) + np.median(region)) / 2.0
        dark = (region < cut).astype(np.uint8)
        # bridge the glint in a pupil (one or two pixels) before measuring runs
        dark = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, _GLINT)
        heights.append(_longest_run(dark > 0) / iod)
    return float(np.mean(heights)) if heights else None


def eyes(
    face: FaceObservation, limits: AttributeThresholds, iris: float | None = None,
    sclera: float | None = None,
) -> str | None:
    """open / closed from the eye aspect ratio, the iris and the white of the eye.

    Closed needs no white showing and a low aspect ratio (or a thin dark blob with a
    middling one); open needs a high aspect ratio confirmed by the iris or the white (or by
    the aspect ratio alone when neither could be read). Anything else is not judged.
    """
    g = face.geometry
    if not g:
        return None
    ear = g["ear"]
    white = sclera is not None and sclera >= limits.sclera_open
    thin = iris is not None and iris < limits.closed_iris
    if not white and (ear < limits.eyes_closed_ear or (thin and ear < limits.closed_iris_ear)):
        return "closed"
    confirmed = white or (iris is not None and iris > limits.open_iris) or (
        iris is None and sclera is None
    )
    if ear > limits.eyes_open_ear and confirmed:
        return "open"
    return None


def _lens(eye: np.ndarray, iod: float) -> tuple[slice, slice]:
    """The eye and the lens area right around it, inside any frame (row and column slices)."""
    centre = eye.mean(axis=0)
    half_w = max(float(np.ptp(eye[:, 0])) * 0.5, 1.0)
    rows = slice(int(max(centre[1] - 0.12 * iod, 0)), int(centre[1] + 0.12 * iod) + 1)
    cols = slice(int(max(centre[0] - half_w, 0)), int(centre[0] + half_w) + 1)
    return rows, cols


def _eye_window(eye: np.ndarray, iod: float, width: float) -> tuple[slice, slice]:
    """Rows 0.22 IOD above and below the eye's centre, `width` of the eye's width each side."""
    centre = eye.mean(axis=0)
    half_w = float(np.ptp(eye[:, 0])) * width
    return (
        slice(int(max(centre[1] - 0.22 * iod, 0)), int(centre[1] + 0.22 * iod) + 1),
        slice(int(max(centre[0] - half_w, 0)), int(centre[0] + half_w) + 1),
    )


def _longest_run(dark: np.ndarray) -> float:
    """Longest vertical run of True in any column (a frame rim above or below the lashes
    is a separate, thin run and does not add to it)."""
    best = 0
    for column in dark.T:
        run = 0
        for value in column:
            run = run + 1 if value else 0
            best = max(best, run)
    return float(best)


def _box_slices(box: tuple[float, ...], shape: tuple[int, ...]) -> tuple[slice, slice]:
    """Row and column slices of a face box, clipped to the image."""
    x0, y0, x1, y1 = box
    h, w = shape[:2]
    rows = slice(int(min(max(y0, 0), h - 1)), int(min(max(y1, y0 + 1), h)))
    cols = slice(int(min(max(x0, 0), w - 1)), int(min(max(x1, x0 + 1), w)))
    return rows, cols


def _edge_strength(edges: np.ndarray, rows: tuple[float, float], cols: tuple[float, float]):
    """Median over columns of the strongest edge in each column of a region (0 if empty)."""
    h, w = edges.shape
    ya, yb = int(max(rows[0], 0)), int(min(rows[1], h))
    xa, xb = int(max(cols[0], 0)), int(min(cols[1], w))
    if yb - ya < 1 or xb - xa < 1:
        return 0.0
    return float(np.median(edges[ya:yb, xa:xb].max(axis=0)))
