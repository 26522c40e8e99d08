"""Generation backends, chosen by name: `procedural` (the embedded default) and `diffusers`.

    gen = get_generator("procedural", image_size=256, fault_rate=0.1)
    images = gen.generate(items, build_dir / "images")

The diffusers backend is imported only when asked for, so the procedural path never pays
for importing torch.
"""

from __future__ import annotations

from tools.errors import FacetoryError
from tools.generate.base import Generator, image_filename

BACKENDS = ("procedural", "diffusers")
DEFAULT_BACKEND = "procedural"

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Generator", "get_generator", "image_filename"]


def get_generator(
    backend: str = DEFAULT_BACKEND,
    *,
    model: str | None = None,
    image_size: int = 256,
    fault_rate: float = 0.0,
    steps: int = 30,
    guidance_scale: float = 7.5,
    device: str | None = None,
    scheduler: str | None = None,
    batch_size: int = 4,
) -> Generator:
    """The generator called `backend`, configured; unknown names are a one-line error.

    `fault_rate` applies to the procedural backend only (it imitates diffusion failures, which
    a real model makes on its own) and is ignored by diffusers; `model`, `steps`,
    `guidance_scale`, `device`, `scheduler`, `batch_size` apply to diffusers only.
    """
    name = (backend or DEFAULT_BACKEND).strip().lower()
    if name == "procedural":
        from tools.generate.procedural import ProceduralGenerator

        return ProceduralGenerator(image_size=image_size, fault_rate=fault_rate)
    if name == "diffusers":
        from tools.generate.diffusers_backend import DiffusersGenerator

        return DiffusersGenerator(
            model,
            image_size=image_size,
            steps=steps,
            guidance_scale=guidance_scale,
            device=device,
            scheduler=scheduler,
            batch_size=batch_size,
        )
    raise FacetoryError(
        f"unknown generation backend {backend!r}: choose one of {', '.join(BACKENDS)}"
    )
