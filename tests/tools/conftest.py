"""Fixtures shared by the tools tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tools.tiny_sd import tiny_sd_once


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A tiny random-weight Stable Diffusion pipeline on disk, built once per session."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors on a shared CPU: one thread is far faster
    yield tiny_sd_once(tmp_path_factory.getbasetemp())
    torch.set_num_threads(threads)


@pytest.fixture(scope="package")
def local_ray() -> Iterator[None]:
    """A Ray on this machine, as `--executor ray` without `--address` starts one (about 5 s),
    shared by the Ray tests of this package."""
    import ray

    from tools.execution.ray_actors import connect

    connect()
    yield
    ray.shutdown()
