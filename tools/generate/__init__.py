"""Generation backends, chosen by the type of their configuration (`tools.config`):
`ProceduralConfig` (the embedded default), `DiffusersConfig` (text-to-image) and
`IdentityConditionedConfig` (IP-Adapter from a local path, or reference-image img2img).

    gen = get_generator(ProceduralConfig(fault_rate=0.1), image_size=256)
    images = gen.generate(items, build_dir / "images")
    capabilities("diffusers").needs_gpu   # what a backend can do, asked by its name

A build passes `spec.generation.backend_config()`; each backend takes its block whole. The
diffusers backends are imported only when asked for, so the procedural path never pays for
importing torch (their modules import torch only when they draw).
"""

from __future__ import annotations

from collections.abc import Callable

from tools.config import (
    BACKEND_CONFIGS,
    BACKENDS,
    IMAGE_SIZE,
    DiffusersConfig,
    GenerationConfig,
    GeneratorConfig,
    IdentityConditionedConfig,
    ProceduralConfig,
)
from tools.errors import FacetoryError
from tools.generate.base import Capabilities, Generator, image_filename

DEFAULT_BACKEND: str = GenerationConfig.model_fields["backend"].default


def _procedural() -> type:
    from tools.generate.procedural import ProceduralGenerator

    return ProceduralGenerator


def _diffusers() -> type:
    from tools.generate.diffusers_backend import DiffusersGenerator

    return DiffusersGenerator


def _identity() -> type:
    from tools.generate.diffusers_identity import IdentityConditionedGenerator

    return IdentityConditionedGenerator


#: Each backend's generator class, by the type of its config, imported on first use (plain
#: imports inside functions, so the import-circle test sees them); the backend's name is
#: its config's `backend`.
_CLASSES: dict[type, Callable[[], type]] = {
    ProceduralConfig: _procedural,
    DiffusersConfig: _diffusers,
    IdentityConditionedConfig: _identity,
}
_BY_NAME = {config.backend: config for config in BACKEND_CONFIGS}

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Capabilities", "Generator", "capabilities",
           "get_generator", "image_filename"]


def _class(config_type: type) -> type:
    """The generator class for a backend's config type; an unknown one is a one-line error."""
    load = _CLASSES.get(config_type)
    if load is None:
        raise FacetoryError(
            f"no generation backend for {config_type.__name__}: choose one of "
            f"{', '.join(BACKENDS)}"
        )
    return load()


def capabilities(backend: str) -> Capabilities:
    """What the backend named `backend` can do, as its generator class declares it."""
    if backend not in _BY_NAME:
        raise FacetoryError(
            f"no generation backend {backend!r}: choose one of {', '.join(BACKENDS)}"
        )
    return _class(_BY_NAME[backend]).capabilities


def get_generator(config: GeneratorConfig, *, image_size: int = IMAGE_SIZE) -> Generator:
    """The generator `config` configures; an unknown config type is a one-line error."""
    return _class(type(config))(config, image_size=image_size)
