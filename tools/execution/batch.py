"""`BatchResult`: what drawing a batch produced, the input of the critique and dedup stages.

The executor that draws a batch may also judge, embed and describe each image in the same
task (the procedural renderer on a pool: `tools.execution.render_ahead`); the result carries
that work to the stages that need it, which compute only what is missing (`fill`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from tools.contracts import Box, GeneratedImage, PlanItem, Verdict
from tools.execution.image_tasks import Prepared

A = TypeVar("A")
V = TypeVar("V")


@dataclass(frozen=True)
class BatchResult:
    """Image id -> what its drawing task produced (`Prepared`: the picture, and the verdict,
    embedding and face descriptor when they were computed with it)."""

    images: dict[str, Prepared] = field(default_factory=dict)

    @classmethod
    def drawn(cls, images: dict[str, GeneratedImage]) -> BatchResult:
        """Pictures alone (drawn in this process, or by a model): nothing judged yet."""
        return cls({image_id: Prepared(image) for image_id, image in images.items()})

    def image(self, image_id: str) -> GeneratedImage:
        return self.images[image_id].image

    def verdict(self, image_id: str, item: PlanItem) -> Verdict | None:
        """The verdict on the image against `item`, if it was judged against that item."""
        done = self.images.get(image_id)
        return done.verdict if done is not None and done.judged == item else None

    def embedding(self, image_id: str) -> np.ndarray | None:
        done = self.images.get(image_id)
        return done.embedding if done is not None else None

    def descriptor(self, image_id: str, box: Box) -> np.ndarray | None:
        """The face descriptor of the image's face in `box`, if that face was described."""
        done = self.images.get(image_id)
        if done is None or done.box is None or tuple(done.box) != tuple(box):
            return None
        return done.descriptor


def fill(
    known: Sequence[V | None], args: Sequence[A], compute: Callable[[list[A]], list[V]]
) -> list[V]:
    """`known`, with `compute` of the `args` it has nothing for (one call), in order."""
    out = list(known)
    missing = [i for i, value in enumerate(out) if value is None]
    if missing:
        for i, value in zip(missing, compute([args[i] for i in missing]), strict=True):
            out[i] = value
    return out  # type: ignore[return-value]
