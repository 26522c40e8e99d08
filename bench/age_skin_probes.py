"""Age cues of the adults past young, as probes for `bench/sweep_age_cues.py` (`SKIN_PROBES`).

    .venv/bin/python bench/sweep_age_cues.py --groups middle_aged,elderly,old \\
        --cue "aged skin 0.1 lower 0.0 grain 0.015" --sheet

Each entry changes one thing about how the middle-aged, elderly and old are drawn: the aged
skin's texture (`aging.draw_skin_age`) stronger, coarser or elsewhere; a crepe of fine lines;
texture on one region of the face only (where the model looks); identity traits that age a
face to a person (hollow cheeks, thin lips, hooded lids, grey brows). Several of them move
the model and read as cork, bark or cracked paint to a person: look at their sheets.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from unittest import mock

import cv2
import numpy as np

from tools.generate import aging, face, procedural
from tools.generate.people import identity_seed

PAST_YOUNG = ("middle_aged", "elderly", "old")


def _set(module: object, **values: object) -> ExitStack:
    """Module attributes set for the block."""
    stack = ExitStack()
    for name, value in values.items():
        stack.enter_context(mock.patch.object(module, name, value))
    return stack


def aged_skin(old: float, lower: float, grain: float = aging.SKIN_AGE_GRAIN,
              socket: tuple[float, float] = aging.SOCKET, middle: float = 0.5) -> ExitStack:
    """`aging.draw_skin_age` at `old` for the old (`middle` and 0.8 of it for the
    middle-aged and elderly), `lower` of it below the nose, grain `grain` face units, the
    eye sockets spared over `socket`."""
    return _set(aging, SKIN_AGE={"middle_aged": old * middle, "elderly": old * 0.8, "old": old},
                SKIN_AGE_LOWER=lower, SKIN_AGE_GRAIN=grain, SOCKET=socket)


def aged_traits(**traits: float):
    """The adults past young drawn with these identity traits (`people.Identity`)."""
    import dataclasses

    resolve = procedural.resolve_face

    def resolved(*args, **kwargs):
        spec = resolve(*args, **kwargs)
        if spec.attributes["age_group"] in PAST_YOUNG:
            spec = dataclasses.replace(spec, identity=dataclasses.replace(spec.identity, **traits))
        return spec
    return mock.patch.object(procedural, "resolve_face", resolved)


def grey_brows():
    """The elderly's and old's brows in their hair's colour (times the identity's brow tone),
    not capped near the skin's shadow as drawn: grey on grey hair."""
    drawn = face.FaceDrawer._brows

    def draw(self) -> None:
        if self.a["age_group"] not in ("elderly", "old"):
            return drawn(self)
        own = self.skin
        self.skin = (700.0, 700.0, 700.0)  # lifts the cap (skin * 0.38 + 4) above any hair
        try:
            return drawn(self)
        finally:
            self.skin = own
    return mock.patch.object(face.FaceDrawer, "_brows", draw)


def _crepe_field(seed: int, along: float, across: float, width: float) -> np.ndarray:
    """Thin dark lines where smooth noise crosses zero (a network of fine creases), as a
    unit-variance light factor on the texture's face-unit grid."""
    cells = aging._TEXTURE_CELLS
    white = np.random.default_rng(seed).standard_normal((3 * cells, 3 * cells))
    f = cv2.GaussianBlur(white.astype(np.float32), (0, 0), along * cells, sigmaY=across * cells)
    lines = cv2.GaussianBlur(np.exp(-(f / (f.std() * width)) ** 2), (0, 0), 0.6)
    t = lines.mean() - lines
    return t / t.std()


#: Regions of the face in face units (`lay`, x, y -> inside), for `textured_region`.
REGIONS: dict[str, Callable] = {
    "forehead": lambda lay, u, v: v < lay.eye_y - 0.2,
    "eye band": lambda lay, u, v: np.abs(v - lay.eye_y) < 0.2,
    "under the eyes": lambda lay, u, v: (v > lay.eye_y + 0.08) & (v < lay.nose_y - 0.05),
    "cheeks": lambda lay, u, v: ((v > lay.nose_y - 0.1) & (v < lay.mouth_y + 0.1)
                                 & (np.abs(u) > lay.nose_w * 1.4)),
    "round the mouth": lambda lay, u, v: ((np.abs(u) < lay.mouth_w * 1.3) & (v > lay.nose_y)
                                          & (v < lay.mouth_y + 0.15)),
    "jaw and chin": lambda lay, u, v: v > lay.mouth_y + 0.1,
    "whole face": lambda lay, u, v: np.ones_like(u, bool),
}


@contextmanager
def textured(amount: float, field: Callable[[int], np.ndarray], region: str = "whole face"):
    """The elderly and old drawn with a texture `field(seed)` at `amount` over one region
    (the aged skin of the renderer off): which part of the face the model reads age from."""
    drawn = aging.draw_age

    def draw(d) -> None:
        drawn(d)
        if d.a["age_group"] not in ("elderly", "old") or d.head_mask is None:
            return
        ys, xs = np.nonzero(d.head_mask > 0)
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        u, v = aging._face_units(d, x0, y0, x1, y1)
        cells = aging._TEXTURE_CELLS
        tex = cv2.remap(field(identity_seed(d.face.identity.key) + 13),
                        ((u + 1.5) * cells).astype(np.float32),
                        ((v + 1.5) * cells).astype(np.float32), cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REFLECT)
        w = cv2.GaussianBlur(REGIONS[region](d.lay, u, v).astype(np.float32), (0, 0), 2.0)
        k = 1 + amount * tex * w * d.head_mask[y0:y1, x0:x1]
        d.img[y0:y1, x0:x1] = np.clip(d.img[y0:y1, x0:x1] * k[..., None], 0, 255).astype(np.uint8)

    with _set(aging, SKIN_AGE={}, draw_age=draw):
        yield


def _speckle(seed: int) -> np.ndarray:
    """The renderer's aged-skin noise on its face-unit grid (unit variance)."""
    cells = aging._TEXTURE_CELLS
    white = np.random.default_rng(seed).standard_normal((3 * cells, 3 * cells))
    f = cv2.GaussianBlur(white.astype(np.float32), (0, 0), aging.SKIN_AGE_GRAIN * cells)
    return f / f.std()


#: Cue name -> (attributes asked of every item, a context that changes the drawing).
SKIN_PROBES: dict[str, tuple[dict[str, str], Callable[[], object]]] = {
    "no aged skin": ({}, lambda: _set(aging, SKIN_AGE={})),
    **{f"aged skin {a} lower {low} grain {g}": ({}, lambda a=a, low=low, g=g: aged_skin(
        a, low, grain=g)) for a in (0.1, 0.14) for low in (0.0, 0.5) for g in (0.015, 0.02)},
    **{f"aged skin {a} sockets {k}": ({}, lambda a=a, k=k: aged_skin(a, 0.5, socket=k))
       for a in (0.07, 0.09) for k in ((1.6, 0.14), (1.6, 0.0001))},
    "aged skin 0.07 middle 0.8": ({}, lambda: aged_skin(0.07, 0.5, middle=0.8)),
    **{f"speckle 0.15 on the {r}": ({}, lambda r=r: textured(0.15, _speckle, r))
       for r in REGIONS},
    **{f"crepe {a} {al}/{ac}": ({}, lambda a=a, al=al, ac=ac: textured(
        a, lambda seed: _crepe_field(seed, al, ac, 0.3)))
       for a, al, ac in ((0.1, 0.03, 0.03), (0.15, 0.03, 0.03), (0.15, 0.06, 0.02))},
    "old: grey brows": ({}, grey_brows),
    "old: grey thin brows": ({}, lambda: _both(grey_brows(), aged_traits(brow_thick=0.03))),
    "old: hollow cheeks": ({}, lambda: aged_traits(cheek=0.26)),
    "old: thin lips": ({}, lambda: aged_traits(lip_upper=0.032, lip_lower=0.04)),
    "old: hooded lids": ({}, lambda: aged_traits(lid_crease=0.2)),
    "old: all traits": ({}, lambda: aged_traits(cheek=0.26, lip_upper=0.032, lip_lower=0.04,
                                                 lid_crease=0.2)),
}


def _both(*contexts) -> ExitStack:
    stack = ExitStack()
    for c in contexts:
        stack.enter_context(c)
    return stack
