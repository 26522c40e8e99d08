"""A diffusion backend drawn by Ray actors, one per GPU (`--executor ray`).

Each actor builds the generator from the build's config once (`num_gpus=1`: Ray gives it one
GPU, and the pipeline is loaded once per actor). A batch of items is cut into the batches the
generator forms itself (`pipeline_batches`), each drawn whole by one actor, so an image does
not depend on the number of actors; the images come back as bytes and the driver writes them
where the local generator writes them, so the nodes need no filesystem shared with it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.atomic import write_bytes
from tools.contracts import GeneratedImage, PlanItem
from tools.errors import FacetoryError
from tools.execution.actor_set import Actor, ActorSet
from tools.execution.base import StallPolicy
from tools.execution.ray_actors import connect


class _Drawer(Actor):
    """A generator actor's body: one generator (its pipeline loaded once), batches drawn into
    a scratch folder and handed back as bytes for the driver to write."""

    def __init__(self, config: Any, image_size: int) -> None:
        from tools.generate import get_generator

        self._generator = get_generator(config, image_size=image_size)
        self._scratch = Path(tempfile.mkdtemp(prefix="facetory-ray-draw-"))

    def draw(
        self, items: list[PlanItem], attempt: int
    ) -> list[tuple[GeneratedImage, bytes]]:
        images = self._generator.generate(items, self._scratch, attempt=attempt)
        out = []
        for image in images:
            path = Path(image.path)
            out.append((image, path.read_bytes()))
            path.unlink(missing_ok=True)
        return out


class RayGenerator:
    """A diffusion generator (the `Generator` protocol) drawn by `actors` Ray actors of
    `num_gpus` GPUs each, a stalled batch as the worker pool's (`stall`); images written
    here, atomically."""

    def __init__(
        self,
        config: Any,
        *,
        image_size: int,
        actors: int,
        num_gpus: float = 1.0,
        address: str | None = None,
        stall: StallPolicy | None = None,
    ) -> None:
        from tools.generate import get_generator

        self._local = get_generator(config, image_size=image_size)  # names; loads nothing
        if not hasattr(self._local, "batch_size"):
            raise FacetoryError(f"the {self._local.name} backend does not run on Ray actors")
        self.name: str = self._local.name
        self.model: str = self._local.model
        self.capabilities = self._local.capabilities
        connect(address)
        # num_cpus=0: the critic actors take one CPU each, all of them by default, and a
        # generator that asked for one more would wait behind them for ever (seen on a
        # 2-CPU, 1-GPU test cluster); its CPU work is feeding its GPU
        self._actors = ActorSet(
            _Drawer, actors, {"num_gpus": num_gpus, "num_cpus": 0}, (config, image_size), stall
        )

    def start(self) -> None:
        self._actors.start()

    def close(self) -> None:
        self._actors.close()

    def generate(
        self, items: Sequence[PlanItem], out_dir: Path, *, attempt: int = 0
    ) -> list[GeneratedImage]:
        """The local generator's `generate`, its batches spread over the actors."""
        from tools.generate.diffusers_backend import pipeline_batches
        from tools.safety import check_items

        check_items(items, after="nothing was generated")  # all of them, before any is drawn
        batches = pipeline_batches(items, self._local.batch_size, self._local.guidance_scale)
        done = self._actors.map(
            lambda actor, batch: actor.draw.remote(batch, attempt), batches,
            what="generating a batch",
        )
        out_dir = Path(out_dir)
        images = []
        for image, data in (pair for batch in done for pair in batch):
            path = out_dir / Path(image.path).name
            write_bytes(path, data)
            images.append(image.model_copy(update={"path": str(path)}))
        return images
