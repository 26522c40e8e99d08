"""Generation backends, chosen by the type of their configuration (`tools.config`):
`ProceduralConfig` (the embedded default), `DiffusersConfig` (text-to-image) and
`IdentityConditionedConfig` (IP-Adapter from a local path, or reference-image img2img).

    gen = get_generator(ProceduralConfig(fault_rate=0.1), image_size=256)
    images = gen.generate(items, build_dir / "images")

A build passes `spec.generation.backend_config()`. The diffusers backends are imported only
when asked for, so the procedural path never pays for importing torch.
"""

from __future__ import annotations

from tools.config import (
    BACKENDS,
    DiffusersConfig,
    GeneratorConfig,
    IdentityConditionedConfig,
    ProceduralConfig,
)
from tools.errors import FacetoryError
from tools.generate.base import Generator, image_filename

DEFAULT_BACKEND = "procedural"

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Generator", "get_generator", "image_filename"]


def get_generator(config: GeneratorConfig, *, image_size: int = 256) -> Generator:
    """The generator `config` configures; an unknown config type is a one-line error."""
    if isinstance(config, ProceduralConfig):
        from tools.generate.procedural import ProceduralGenerator

        return ProceduralGenerator(image_size=image_size, fault_rate=config.fault_rate,
                                   photo_backgrounds=config.photo_backgrounds)
    if isinstance(config, DiffusersConfig):
        from tools.generate.diffusers_backend import DiffusersGenerator

        return DiffusersGenerator(
            config.model,
            image_size=image_size,
            steps=config.steps,
            guidance_scale=config.guidance_scale,
            device=config.device,
            scheduler=config.scheduler,
            batch_size=config.batch_size,
            dtype=config.dtype,
            channels_last=config.channels_last,
            torch_compile=config.torch_compile,
        )
    if isinstance(config, IdentityConditionedConfig):
        from tools.generate.diffusers_identity import IdentityConditionedGenerator

        d, ip = config.diffusers, config.identity
        return IdentityConditionedGenerator(
            d.model,
            ip_adapter=ip.ip_adapter,
            weight_name=ip.weight_name,
            image_encoder=ip.image_encoder,
            scale=ip.scale,
            image_size=image_size,
            steps=d.steps,
            guidance_scale=d.guidance_scale,
            device=d.device,
            strength=ip.strength,
            batch_size=d.batch_size,
            scheduler=d.scheduler,
            dtype=d.dtype,
        )
    raise FacetoryError(
        f"no generation backend for {type(config).__name__}: choose one of {', '.join(BACKENDS)}"
    )
