"""The generator contract: a batch of plan items in, a batch of generated images out.

Every backend (the procedural renderer, diffusers text-to-image, identity-conditioned
generators) implements this one protocol, so the agent can swap them by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from tools.contracts import GeneratedImage, PlanItem


@runtime_checkable
class Generator(Protocol):
    """Turns plan items into PNG files on disk.

    Contract:
    - pixels are written atomically as PNG to `out_dir / image_filename(item, attempt)`,
      carrying provenance text (see `tools.generate.provenance`);
    - the output depends only on the item (its seed, attributes, identity, prompt), not on
      the attempt number: the agent sets a new seed when it retries;
    - `GeneratedImage.truth` is filled when the backend knows what it drew;
    - every item's prompt and negative prompt pass `tools.safety.check_items` before
      anything of the batch is drawn (an unsafe one raises `UnsafePrompt`, naming the item).
    """

    name: str
    model: str

    def generate(
        self, items: Sequence[PlanItem], out_dir: Path, *, attempt: int = 0
    ) -> list[GeneratedImage]:
        """Render `items` into `out_dir`; one GeneratedImage per item, in order."""
        ...


def image_filename(item: PlanItem, attempt: int = 0) -> str:
    """The file name of one attempt at one plan item."""
    return f"{item.id}-a{attempt}.png"
