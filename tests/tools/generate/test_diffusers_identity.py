"""Identity-conditioned generation on the tiny random-weight pipeline, through diffusers' own
IP-Adapter loader, with adapter weights made here in the layout of real checkpoints."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from tools.config import DiffusersConfig, IdentityConditionedConfig, IpAdapterConfig
from tools.contracts import PlanItem
from tools.errors import FacetoryError
from tools.generate import get_generator
from tools.generate.diffusers_backend import attention_processors, load_pipeline
from tools.generate.diffusers_identity import (
    IdentityConditionedGenerator,
    adapter_kind,
    resolve_adapter,
)
from tools.generate.provenance import read_provenance

IMAGE_EMBED_DIM = 16
ID_EMBED_DIM = 12


def conditioned(model: Path, *, image_size: int = 64, id_embedder=None, **settings):
    """An identity-conditioned generator over `model`: each setting goes to the block that
    defines it (`diffusers:` or `identity:`), as in spec.yaml."""
    diffusion = {k: v for k, v in settings.items() if k in DiffusersConfig.model_fields}
    identity = {k: str(v) if isinstance(v, Path) else v for k, v in settings.items()
                if k not in diffusion}
    config = IdentityConditionedConfig(
        diffusers=DiffusersConfig(model=str(model), **diffusion),
        identity=IpAdapterConfig(**identity),
    )
    return IdentityConditionedGenerator(config, image_size=image_size, id_embedder=id_embedder)


def ip_adapter_layers(unet, seed: int) -> dict:
    """`ip_adapter.<k>.to_k_ip/to_v_ip.weight` for each cross-attention, k = 1, 3, 5, ...

    The numbering is the original IP-Adapter checkpoints': diffusers walks
    `unet.attn_processors` and takes keys 1, 3, 5, ... for the cross-attention (attn2) ones.
    """
    import torch

    gen = torch.Generator().manual_seed(seed)
    channels = unet.config.block_out_channels
    tensors, key_id = {}, 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        if name.startswith("mid_block"):
            hidden = channels[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(channels))[int(name[len("up_blocks.")])]
        else:
            hidden = channels[int(name[len("down_blocks.")])]
        for part in ("to_k_ip", "to_v_ip"):
            shape = (hidden, unet.config.cross_attention_dim)
            tensors[f"ip_adapter.{key_id}.{part}.weight"] = torch.randn(*shape, generator=gen) * 0.3
        key_id += 2
    return tensors


def save_ip_adapter(tiny_sd: Path, root: Path, *, faceid: bool = False) -> Path:
    """An IP-Adapter in h94/IP-Adapter's layout: `root/ip-adapter.safetensors` and, unless
    FaceID, `root/image_encoder/` (a tiny CLIPVisionModelWithProjection)."""
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    unet = UNet2DConditionModel.from_pretrained(tiny_sd / "unet")
    cross = unet.config.cross_attention_dim
    gen = torch.Generator().manual_seed(1)
    tensors = ip_adapter_layers(unet, seed=2)
    if faceid:  # IPAdapterFaceIDImageProjection: ff (mult 2) to 4 tokens, then LayerNorm
        proj = {"proj.0.weight": (2 * ID_EMBED_DIM, ID_EMBED_DIM),
                "proj.0.bias": (2 * ID_EMBED_DIM,),
                "proj.2.weight": (4 * cross, 2 * ID_EMBED_DIM), "proj.2.bias": (4 * cross,)}
    else:  # ImageProjection: one linear layer to 4 tokens, then LayerNorm
        proj = {"proj.weight": (4 * cross, IMAGE_EMBED_DIM), "proj.bias": (4 * cross,)}
    for key, shape in proj.items():
        tensors[f"image_proj.{key}"] = torch.randn(*shape, generator=gen) * 0.3
    tensors["image_proj.norm.weight"] = torch.ones(cross)
    tensors["image_proj.norm.bias"] = torch.zeros(cross)
    root.mkdir(parents=True, exist_ok=True)
    save_file(tensors, root / "ip-adapter.safetensors")
    if not faceid:
        torch.manual_seed(3)
        encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
            hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
            image_size=32, patch_size=8, projection_dim=IMAGE_EMBED_DIM,
        ))
        encoder.save_pretrained(root / "image_encoder")
    return root


@pytest.fixture(scope="module")
def adapter(tiny_sd: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_ip_adapter(tiny_sd, tmp_path_factory.mktemp("ip_adapter"))


def item(i: int, seed: int, identity: str | None = "id-0001", **kw) -> PlanItem:
    return PlanItem(id=f"face-{i}", **{"class": "face"}, seed=seed, identity=identity,
                    prompt=kw.pop("prompt", "photo of a smiling woman"), **kw)


def pixels(path: str | Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def reference(path: Path, colour: tuple[int, int, int], seed: int) -> Path:
    rng = np.random.default_rng(seed)
    array = np.clip(rng.normal(colour, 40, (64, 64, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(array).save(path)
    return path


def test_ip_adapter_conditions_on_the_reference(tiny_sd: Path, adapter: Path, tmp_path: Path):
    gen = get_generator(
        IdentityConditionedConfig(
            diffusers=DiffusersConfig(model=str(tiny_sd), steps=2, device="cpu"),
            identity=IpAdapterConfig(ip_adapter=str(adapter), scale=1.0),
        ),
        image_size=64,
    )
    assert isinstance(gen, IdentityConditionedGenerator) and gen.mode == "ip-adapter"
    red = reference(tmp_path / "red.png", (200, 40, 40), 0)
    blue = reference(tmp_path / "blue.png", (40, 40, 200), 1)
    items = [item(0, 7), item(1, 7, identity="id-0002"), item(2, 8, identity=None)]
    out = gen.generate(items, tmp_path / "a", attempt=2, references={"id-0001": red})

    assert [Path(o.path).name for o in out] == ["face-0-a2.png", "face-1-a2.png", "face-2-a2.png"]
    assert {o.backend for o in out} == {"diffusers-identity"} and out[0].truth is None
    meta = read_provenance(out[0].path)
    assert meta["conditioning"] == "ip-adapter" and meta["reference"] == "red.png"
    assert meta["ip_adapter"] == "ip-adapter.safetensors" and meta["ip_adapter_scale"] == "1.0"
    assert meta["identity"] == "id-0001" and meta["synthetic"] == "true"
    # an identity with no reference yet is drawn by text-to-image: it becomes the anchor
    assert read_provenance(out[1].path)["conditioning"] == "txt2img"
    assert "reference" not in read_provenance(out[1].path)

    # the reference steers the image; the same reference and seed give the same image. Each
    # comparison is between pictures drawn in batches of the same shape (out[0] was drawn
    # alone, out[1:] as a pair): float reductions round differently with the batch's shape
    # and the thread count, so a picture drawn in a batch is never compared bit for bit with
    # one drawn alone
    again = gen.generate(items[:1], tmp_path / "b", references={"id-0001": red})
    other = gen.generate(items[:1], tmp_path / "c", references={"id-0001": blue})
    assert np.array_equal(pixels(again[0].path), pixels(out[0].path))
    assert np.abs(pixels(other[0].path) - pixels(out[0].path)).mean() > 1.0
    # at scale 0 the adapter is skipped: the items' text-to-image pictures, from the same
    # shared weights, which the adapter never touched
    plain = get_generator(DiffusersConfig(model=str(tiny_sd), steps=2, device="cpu"), image_size=64)
    anchor = plain.generate(items[1:], tmp_path / "d")
    for drawn, conditioned in zip(anchor, out[1:], strict=True):
        assert np.array_equal(pixels(drawn.path), pixels(conditioned.path))
    assert attention_processors(load_pipeline(str(tiny_sd), device="cpu")) == {"AttnProcessor2_0"}


def test_batches_keep_each_person_to_their_own_reference(tiny_sd: Path, adapter: Path,
                                                        tmp_path: Path):
    gen = conditioned(tiny_sd, ip_adapter=adapter, scale=1.0,
                                       image_size=64, steps=2, device="cpu", batch_size=3)
    refs = {"id-0001": reference(tmp_path / "r1.png", (200, 40, 40), 0),
            "id-0002": reference(tmp_path / "r2.png", (40, 200, 40), 1)}
    items = [item(0, 5), item(1, 6), item(2, 5, identity="id-0002")]
    batch = gen.generate(items, tmp_path / "batch", references=refs)
    for k, one in enumerate(items):
        alone = gen.generate([one], tmp_path / f"alone{k}", references=refs)
        # batched matmuls may round differently, never more
        assert np.abs(pixels(batch[k].path) - pixels(alone[0].path)).max() <= 2
    assert np.abs(pixels(batch[0].path) - pixels(batch[2].path)).mean() > 1.0


def test_img2img_fallback_without_an_adapter(tiny_sd: Path, tmp_path: Path):
    gen = conditioned(tiny_sd, image_size=64, steps=4, device="cpu",
                                       strength=0.5)
    assert gen.mode == "img2img"
    # a reference of another size is resized to the image size
    ref = reference(tmp_path / "ref.png", (180, 120, 90), 0)
    Image.open(ref).resize((96, 96)).save(ref)
    out = gen.generate([item(0, 3), item(1, 3, identity="id-0009")], tmp_path / "out",
                       references={"id-0001": ref})
    meta = read_provenance(out[0].path)
    assert meta["conditioning"] == "img2img" and meta["strength"] == "0.5"
    assert (out[0].width, out[0].height) == (64, 64)
    assert read_provenance(out[1].path)["conditioning"] == "txt2img"
    other = reference(tmp_path / "other.png", (20, 200, 220), 1)
    moved = gen.generate([item(0, 3)], tmp_path / "moved", references={"id-0001": other})
    assert np.abs(pixels(moved[0].path) - pixels(out[0].path)).mean() > 1.0


def test_faceid_adapter_takes_an_identity_embedding(tiny_sd: Path, tmp_path: Path):
    root = save_ip_adapter(tiny_sd, tmp_path / "faceid", faceid=True)
    assert adapter_kind(root / "ip-adapter.safetensors") == "faceid"
    ref_a = reference(tmp_path / "a.png", (200, 40, 40), 0)
    ref_b = reference(tmp_path / "b.png", (40, 40, 200), 1)
    seen = []

    def embed(rgb: np.ndarray) -> np.ndarray:
        seen.append(rgb.shape)
        return np.resize(rgb.reshape(-1, 3).mean(axis=0) / 255.0, ID_EMBED_DIM)

    gen = conditioned(tiny_sd, ip_adapter=root, scale=1.0, image_size=64,
                                       steps=2, device="cpu", id_embedder=embed)
    a = gen.generate([item(0, 4)], tmp_path / "a", references={"id-0001": ref_a})
    b = gen.generate([item(0, 4)], tmp_path / "b", references={"id-0001": ref_b})
    assert seen == [(64, 64, 3), (64, 64, 3)]
    assert read_provenance(a[0].path)["conditioning"] == "faceid"
    assert np.abs(pixels(a[0].path) - pixels(b[0].path)).mean() > 1.0

    no_embedder = conditioned(tiny_sd, ip_adapter=root, image_size=64,
                                               steps=2, device="cpu")
    with pytest.raises(FacetoryError, match="FaceID adapter: it needs an identity embedding"):
        no_embedder.generate([item(0, 4)], tmp_path / "c", references={"id-0001": ref_a})
    wrong = conditioned(tiny_sd, ip_adapter=root, image_size=64, steps=2,
                                         device="cpu", id_embedder=lambda rgb: np.ones(5))
    with pytest.raises(FacetoryError, match="returned 5 numbers; the adapter wants 12"):
        wrong.generate([item(0, 4)], tmp_path / "d", references={"id-0001": ref_a})


def test_missing_or_unusable_adapters_are_one_line_errors(tiny_sd: Path, adapter: Path,
                                                          tmp_path: Path):
    missing = tmp_path / "no-such-adapter"
    with pytest.raises(FacetoryError, match=f"IP-Adapter not found at {missing}.*local path"):
        conditioned(tiny_sd, ip_adapter=missing)
    with pytest.raises(FacetoryError, match="weights not found: .*nope.bin"):
        resolve_adapter(adapter, "nope.bin")
    assert resolve_adapter(adapter) == adapter / "ip-adapter.safetensors"

    two = tmp_path / "two"
    two.mkdir()
    (two / "a.bin").write_bytes(b"x")
    (two / "b.safetensors").write_bytes(b"x")
    with pytest.raises(FacetoryError, match="holds 2 weight files"):
        resolve_adapter(two)
    with pytest.raises(FacetoryError, match="cannot read IP-Adapter weights"):
        adapter_kind(two / "b.safetensors")

    # weights without their image encoder beside them
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    (lonely / "ip.safetensors").write_bytes((adapter / "ip-adapter.safetensors").read_bytes())
    gen = conditioned(tiny_sd, ip_adapter=lonely / "ip.safetensors",
                                       image_size=64, steps=1, device="cpu")
    ref = {"id-0001": reference(tmp_path / "r.png", (90, 90, 90), 0)}
    with pytest.raises(FacetoryError, match=f"needs its CLIP image encoder: none at {lonely}"):
        gen.generate([item(0, 1)], tmp_path / "out", references=ref)
    # ... which can be named explicitly
    named = conditioned(tiny_sd, ip_adapter=lonely / "ip.safetensors",
                                         image_encoder=adapter / "image_encoder",
                                         image_size=64, steps=1, device="cpu")
    assert named.generate([item(0, 1)], tmp_path / "out", references=ref)[0].path

    # an adapter made for another UNet (wider cross-attention)
    import torch
    from safetensors.torch import load_file, save_file

    wrong = tmp_path / "wrong"
    wrong.mkdir()
    tensors = load_file(adapter / "ip-adapter.safetensors")
    tensors = {k: torch.zeros(v.shape[0], v.shape[1] + 8) if "to_k_ip" in k else v
               for k, v in tensors.items()}
    save_file(tensors, wrong / "ip.safetensors")
    gen = conditioned(tiny_sd, ip_adapter=wrong / "ip.safetensors",
                                       image_encoder=adapter / "image_encoder",
                                       image_size=64, steps=1, device="cpu")
    with pytest.raises(FacetoryError, match="cannot load IP-Adapter .*ip.safetensors"):
        gen.generate([item(0, 1)], tmp_path / "out", references=ref)

    gen = conditioned(tiny_sd, ip_adapter=adapter, image_size=64,
                                       steps=1, device="cpu")
    with pytest.raises(FacetoryError, match="reference image for identity 'id-0001' not found"):
        gen.generate([item(0, 1)], tmp_path / "out", references={"id-0001": tmp_path / "x.png"})
    with pytest.raises(FacetoryError, match="weight_name given without ip_adapter"):
        conditioned(tiny_sd, weight_name="ip-adapter.safetensors")
    with pytest.raises(ValidationError, match="strength"):
        conditioned(tiny_sd, strength=0.0)


def test_faceid_plus_is_refused_with_a_reason(tiny_sd: Path, tmp_path: Path):
    import torch
    from safetensors.torch import save_file

    root = tmp_path / "plus"
    root.mkdir()
    save_file({"image_proj.perceiver_resampler.proj_in.weight": torch.zeros(4, 4),
               "image_proj.proj.0.weight": torch.zeros(4, 4),
               "ip_adapter.1.to_k_ip.weight": torch.zeros(4, 4)},
              root / "ip-adapter-faceid-plus.safetensors")
    assert adapter_kind(root / "ip-adapter-faceid-plus.safetensors") == "faceid-plus"
    gen = conditioned(tiny_sd, ip_adapter=root, image_size=64, steps=1,
                                       device="cpu")
    with pytest.raises(FacetoryError, match="FaceID-Plus adapter"):
        gen.generate([item(0, 1, identity=None)], tmp_path / "out")


@pytest.mark.skipif(importlib.util.find_spec("peft") is not None,
                    reason="with peft installed diffusers applies the LoRA")
def test_faceid_lora_without_peft_is_said_not_swallowed(tiny_sd: Path, tmp_path: Path, caplog):
    import torch
    from safetensors.torch import load_file, save_file

    root = save_ip_adapter(tiny_sd, tmp_path / "faceid", faceid=True)
    tensors = load_file(root / "ip-adapter.safetensors")
    for part in ("to_k", "to_q", "to_v", "to_out"):  # FaceID's LoRA keys (first processor)
        for end in ("down", "up"):
            tensors[f"ip_adapter.0.{part}_lora.{end}.weight"] = torch.zeros(4, 4)
    save_file(tensors, root / "ip-adapter.safetensors")
    gen = conditioned(tiny_sd, ip_adapter=root, image_size=64, steps=1,
                                       device="cpu", id_embedder=lambda rgb: np.ones(ID_EMBED_DIM))
    with caplog.at_level("WARNING", logger="tools.generate.diffusers_identity"):
        out = gen.generate([item(0, 1)], tmp_path / "out",
                           references={"id-0001": reference(tmp_path / "r.png", (9, 9, 9), 0)})
    assert read_provenance(out[0].path)["conditioning"] == "faceid"
    assert "carries a FaceID LoRA" in caplog.text and "pip install peft" in caplog.text
