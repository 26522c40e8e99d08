"""The diffusers backend, driven through the loader users run, on a tiny offline pipeline."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tools.config import DiffusersConfig
from tools.contracts import PlanItem
from tools.errors import FacetoryError
from tools.generate import diffusers_backend, get_generator
from tools.generate.diffusers_backend import (
    attention_processors,
    channels_last_weights,
    is_compiled,
    load_pipeline,
    resolve_model,
)
from tools.generate.provenance import read_provenance


def item(i: int, seed: int, **kw) -> PlanItem:
    return PlanItem(id=f"kid{i}", **{"class": "african"}, seed=seed,
                    prompt=kw.pop("prompt", "photo of a smiling child"), **kw)


def pixels(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def test_txt2img_writes_seeded_images_with_provenance(tiny_sd: Path, tmp_path: Path) -> None:
    gen = get_generator(DiffusersConfig(model=str(tiny_sd), steps=2, device="cpu", batch_size=2),
                        image_size=64)
    items = [item(0, 11), item(1, 12), item(2, 11, negative_prompt="blurry")]
    out = gen.generate(items, tmp_path, attempt=1)

    assert [o.item_id for o in out] == ["kid0", "kid1", "kid2"]
    first = out[0]
    assert Path(first.path) == tmp_path / "kid0-a1.png"
    assert (first.width, first.height, first.backend, first.truth) == (64, 64, "diffusers", None)
    meta = read_provenance(first.path)
    assert meta["generator"] == "diffusers" and meta["synthetic"] == "true"
    assert meta["seed"] == "11" and meta["model"] == str(tiny_sd.resolve())
    assert meta["scheduler"] == "EulerDiscreteScheduler"
    # different seeds give different images
    assert np.abs(pixels(out[0].path) - pixels(out[1].path)).mean() > 1.0


def test_same_seed_same_image_whatever_the_batch(tiny_sd: Path, tmp_path: Path) -> None:
    gen = get_generator(DiffusersConfig(model=str(tiny_sd), steps=2, device="cpu", batch_size=3),
                        image_size=64)
    batch = gen.generate([item(0, 5), item(1, 6), item(2, 7)], tmp_path / "batch")
    alone = gen.generate([item(1, 6)], tmp_path / "alone")
    diff = np.abs(pixels(batch[1].path) - pixels(alone[0].path))
    assert diff.max() <= 2  # batched matmuls may round differently, never more


def test_pipeline_loads_once_and_uses_sdpa(tiny_sd: Path) -> None:
    first = load_pipeline(str(tiny_sd), device="cpu")
    again = load_pipeline(str(tiny_sd) + "/", device="cpu")
    assert first is again
    img2img = load_pipeline(str(tiny_sd), kind="image2image", device="cpu")
    assert img2img.unet is first.unet  # image-to-image reuses the loaded weights
    assert attention_processors(first) == {"AttnProcessor2_0"}


def test_scheduler_is_configurable(tiny_sd: Path, tmp_path: Path) -> None:
    gen = get_generator(DiffusersConfig(model=str(tiny_sd), steps=1, device="cpu",
                                        scheduler="euler_a"), image_size=64)
    out = gen.generate([item(0, 3, guidance_scale=1.0)], tmp_path)
    assert read_provenance(out[0].path)["scheduler"] == "EulerAncestralDiscreteScheduler"
    bad = get_generator(DiffusersConfig(model=str(tiny_sd), steps=1, device="cpu",
                                        scheduler="NoSuchScheduler"), image_size=64)
    with pytest.raises(FacetoryError, match="unknown scheduler"):
        bad.generate([item(0, 3)], tmp_path)


def test_missing_model_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(FacetoryError, match="does not exist"):
        get_generator(DiffusersConfig(model=str(tmp_path / "nowhere")))
    with pytest.raises(FacetoryError, match="no model_index.json"):
        resolve_model(str(tmp_path))
    with pytest.raises(FacetoryError, match="Hugging Face cache"):
        load_pipeline("facetory-tests/not-a-real-model", device="cpu")
    with pytest.raises(FacetoryError, match="needs a model"):
        get_generator(DiffusersConfig())
    with pytest.raises(FacetoryError, match="multiple of 8"):
        get_generator(DiffusersConfig(model=str(tmp_path)), image_size=100)


@pytest.mark.parametrize("identity", [False, True])
def test_an_unsafe_prompt_is_refused_before_any_image_is_drawn(
        tiny_sd: Path, tmp_path: Path, identity: bool) -> None:
    from tools.config import IdentityConditionedConfig
    from tools.safety import UnsafePrompt

    config = DiffusersConfig(model=str(tiny_sd), steps=2, device="cpu")
    if identity:
        config = IdentityConditionedConfig(diffusers=config)
    gen = get_generator(config, image_size=64)
    items = [item(0, 11), item(1, 12, prompt="photo of a child with welts and a bloody nose")]
    with pytest.raises(UnsafePrompt, match="refused: item kid1: .*welts, bloody"):
        gen.generate(items, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.fixture
def private_sd(tiny_sd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the tiny model with a pipeline cache of its own: the speed settings change a
    loaded pipeline in place, and the other tests must keep the plain one."""
    monkeypatch.setattr(diffusers_backend, "_CACHE", {})
    return Path(shutil.copytree(tiny_sd, tmp_path / "model"))


def test_channels_last_stores_the_convolutions_nhwc_and_draws_the_same_images(
    private_sd: Path, tmp_path: Path
) -> None:
    def generator(**settings):
        return get_generator(DiffusersConfig(model=str(private_sd), steps=2, device="cpu",
                                             dtype="float32", **settings), image_size=64)

    plain = generator()  # channels_last None: on CUDA only, so not here
    items = [item(0, 5), item(1, 6)]
    before = plain.generate(items, tmp_path / "plain")
    assert not channels_last_weights(plain.pipeline.unet)

    fast = generator(channels_last=True)
    after = fast.generate(items, tmp_path / "fast")
    pipe = fast.pipeline
    assert channels_last_weights(pipe.unet) and channels_last_weights(pipe.vae)
    for a, b in zip(before, after, strict=True):
        assert np.abs(pixels(a.path) - pixels(b.path)).max() <= 2  # another conv kernel
    plain.generate(items[:1], tmp_path / "again")  # not asking again leaves it on
    assert channels_last_weights(plain.pipeline.unet)


def test_torch_compile_compiles_the_shared_unet_in_place_once(private_sd: Path) -> None:
    gen = get_generator(DiffusersConfig(model=str(private_sd), device="cpu",
                                        torch_compile=True), image_size=64)
    pipe = gen.pipeline
    compiled = pipe.unet._compiled_call_impl
    assert is_compiled(pipe.unet) and type(pipe.unet).__name__ == "UNet2DConditionModel"
    assert attention_processors(pipe) == {"AttnProcessor2_0"}  # still SDPA
    assert gen.pipeline.unet._compiled_call_impl is compiled  # asked again: not recompiled
    img2img = load_pipeline(str(private_sd), kind="image2image", device="cpu")
    assert img2img.unet is pipe.unet  # variants run the compiled UNet too
    # (a compiled generation is not run here: inductor takes ~45 s on 2 CPU cores for the
    # tiny UNet; bench/bench_gpu.py runs one on a GPU)
