"""Synthetic people for the identity tests: descriptors scattered around one centre each."""

from __future__ import annotations

import numpy as np

from tools.outputs.identity_metrics import IdentitySample


def people(n_people: int, per: int, *, spread: float, seed: int = 0, dim: int = 128):
    """Samples around one random centre per person; `spread` is the noise around it."""
    rng = np.random.default_rng(seed)
    out = []
    for p in range(n_people):
        centre = rng.normal(size=dim)
        for k in range(per):
            vector = centre + spread * rng.normal(size=dim)
            out.append(IdentitySample(f"p{p:02d}-{k:02d}", f"person-{p:02d}", vector, {}))
    return out
