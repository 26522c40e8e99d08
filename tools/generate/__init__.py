"""Generation backends, chosen by name: `procedural` (the embedded default), `diffusers` and
`diffusers-identity` (identity-conditioned: IP-Adapter from a local path, or img2img).

    gen = get_generator("procedural", image_size=256, fault_rate=0.1)
    images = gen.generate(items, build_dir / "images")

The diffusers backend is imported only when asked for, so the procedural path never pays
for importing torch.
"""

from __future__ import annotations

from tools.errors import FacetoryError
from tools.generate.base import Generator, image_filename

BACKENDS = ("procedural", "diffusers", "diffusers-identity")
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
    ip_adapter: str | None = None,
    ip_adapter_weight: str | None = None,
    image_encoder: str | None = None,
    ip_adapter_scale: float = 0.7,
    strength: float = 0.6,
) -> Generator:
    """The generator called `backend`, configured; unknown names are a one-line error.

    `fault_rate` applies to the procedural backend only (it imitates diffusion failures, which
    a real model makes on its own) and is ignored by diffusers; `model`, `steps`,
    `guidance_scale`, `device`, `scheduler`, `batch_size` apply to diffusers only;
    `ip_adapter` (local directory or weight file), `ip_adapter_weight`, `image_encoder`,
    `ip_adapter_scale` and `strength` (img2img fallback) to diffusers-identity only.
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
    if name == "diffusers-identity":
        from tools.generate.identity_conditioned import IdentityConditionedGenerator

        return IdentityConditionedGenerator(
            model,
            ip_adapter=ip_adapter,
            weight_name=ip_adapter_weight,
            image_encoder=image_encoder,
            scale=ip_adapter_scale,
            image_size=image_size,
            steps=steps,
            guidance_scale=guidance_scale,
            device=device,
            strength=strength,
            batch_size=batch_size,
            scheduler=scheduler,
        )
    raise FacetoryError(
        f"unknown generation backend {backend!r}: choose one of {', '.join(BACKENDS)}"
    )
