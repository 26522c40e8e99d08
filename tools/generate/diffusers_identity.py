"""Identity-conditioned generation: many images of one synthetic person from a reference image.

Two ways to keep a person's identity across images, as identity datasets need (Arc2Face,
GANDiffFace, identity-preserving aging):

- IP-Adapter (diffusers' `load_ip_adapter`), from a LOCAL path only: the reference image is
  encoded by the adapter's CLIP image encoder and steers cross-attention with weight
  `scale`. Plain, Plus and Full-face adapters load (the plain one is what the tests drive),
  from h94/IP-Adapter's layout (`models/ip-adapter_sd15.safetensors` beside
  `models/image_encoder/`) or with `image_encoder` naming the encoder directory. FaceID
  adapters take an identity embedding instead of an image: pass `id_embedder` (e.g.
  insightface's ArcFace, which needs its own weights, so facetory does not ship one); their
  LoRA part needs `peft` installed. FaceID-Plus (a CLIP and an ArcFace embedding together)
  is not supported. A batch holds one person's images only (diffusers takes one image
  embedding per call and repeats it over the prompts).
- img2img fallback when no adapter is configured: the reference image is re-drawn with
  the item's prompt at `strength` (lower keeps more of the person, and of the picture).

An item whose identity has no reference yet is drawn by plain text-to-image (with the adapter
weight at zero, which diffusers skips exactly): once accepted, it becomes that identity's
anchor and the reference for the rest of its images.

The adapter is loaded into a private copy of the UNet, so the text-to-image pipeline shared
with `DiffusersGenerator` (and its augmentations) is never altered; the VAE and text encoder
are shared. Output contract as every generator: PNG with provenance at
`out_dir/<item id>-a<attempt>.png`, one CPU `torch.Generator` per item seeded with its seed.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tools.config import IMAGE_SIZE, IdentityConditionedConfig
from tools.contracts import GeneratedImage, PlanItem
from tools.errors import FacetoryError
from tools.generate.base import Capabilities, image_filename
from tools.generate.diffusers_backend import (
    check_settings,
    default_device,
    default_prompt,
    load_pipeline,
    resolve_model,
    run_pipeline,
    set_scheduler,
)
from tools.generate.provenance import provenance, write_png
from tools.safety import check_items

log = logging.getLogger(__name__)

WEIGHT_SUFFIXES = (".safetensors", ".bin")
IdEmbedder = Callable[[np.ndarray], Any]
"""RGB uint8 image (H x W x 3) -> 1-D identity embedding (e.g. ArcFace's 512 numbers)."""

_CACHE: dict[tuple[str, ...], tuple[Any, str]] = {}
_LOCK = threading.Lock()


def resolve_adapter(ip_adapter: str | Path, weight_name: str | None = None) -> Path:
    """The adapter weight file: `ip_adapter` itself, or `weight_name` (or the only weight
    file) inside that directory. Errors name the path that was looked at."""
    path = Path(ip_adapter).expanduser()
    if path.is_file():
        if weight_name and weight_name != path.name:
            raise FacetoryError(f"ip_adapter is the file {path}; weight_name {weight_name!r} "
                                "names another file: pass the directory instead")
        return path.resolve()
    if not path.is_dir():
        raise FacetoryError(
            f"IP-Adapter not found at {path}: facetory loads adapters from a local path only "
            "(download one on a connected machine, e.g. `huggingface-cli download "
            "h94/IP-Adapter`, and pass the directory or weight file)"
        )
    if weight_name:
        weights = path / weight_name
        if not weights.is_file():
            raise FacetoryError(f"IP-Adapter weights not found: {weights}")
        return weights.resolve()
    found = sorted(p for p in path.iterdir() if p.suffix in WEIGHT_SUFFIXES and p.is_file())
    if len(found) != 1:
        listing = ", ".join(p.name for p in found) or "none"
        raise FacetoryError(
            f"IP-Adapter directory {path} holds {len(found)} weight files ({listing}); "
            "name one with weight_name"
        )
    return found[0].resolve()


def adapter_kind(weights: Path) -> str:
    """`image` (plain/Plus/Full-face, fed a CLIP image embedding), `faceid` or `faceid-plus`."""
    keys, _ = _adapter_keys(weights)
    if not keys:
        raise FacetoryError(
            f"{weights} is not an IP-Adapter checkpoint (no image_proj weights)"
        )
    if any(k.startswith("perceiver_resampler.") for k in keys):
        return "faceid-plus"
    if "norm.weight" in keys and "proj.weight" not in keys and "proj.0.weight" in keys:
        return "faceid"
    return "image"


def _adapter_keys(weights: Path) -> tuple[set[str], set[str]]:
    """The `image_proj` and `ip_adapter` key names of a checkpoint, without the prefixes."""
    try:
        if weights.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(weights), framework="pt", device="cpu") as handle:
                names = list(handle.keys())  # noqa: SIM118 (a safetensors handle, not a dict)
            return (
                {k[len("image_proj."):] for k in names if k.startswith("image_proj.")},
                {k[len("ip_adapter."):] for k in names if k.startswith("ip_adapter.")},
            )
        import torch

        state = torch.load(str(weights), map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt files raise many types (SafetensorError, pickle, OSError)
        raise FacetoryError(f"cannot read IP-Adapter weights {weights}: {exc}") from exc
    if not isinstance(state, dict):
        return set(), set()
    parts = [state.get("image_proj"), state.get("ip_adapter")]
    return tuple(set(part) if isinstance(part, dict) else set() for part in parts)


def _warn_missing_peft(weights: Path) -> None:
    """FaceID checkpoints carry a LoRA that diffusers applies only with `peft` installed."""
    import importlib.util

    _, layers = _adapter_keys(weights)
    if any("lora" in key for key in layers) and importlib.util.find_spec("peft") is None:
        log.warning("%s carries a FaceID LoRA, which diffusers applies only with peft "
                    "installed (pip install peft); generating without it", weights.name)


def _load_adapter_pipeline(
    model: str, weights: Path, image_encoder: Path | None, scheduler: str | None,
    device: str, dtype: str | None,
) -> tuple[Any, str]:
    """A text-to-image pipeline with the adapter in a private UNet copy, and the adapter kind."""
    key = (model, str(weights), str(image_encoder), str(scheduler), device, str(dtype))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    kind = adapter_kind(weights)
    if kind == "faceid-plus":
        raise FacetoryError(
            f"{weights.name} is a FaceID-Plus adapter, which needs both a CLIP and an ArcFace "
            "embedding; facetory supports plain, Plus, Full-face and FaceID adapters"
        )
    if kind == "image" and image_encoder is None:
        default = weights.parent / "image_encoder"
        if not (default / "config.json").is_file():
            raise FacetoryError(
                f"IP-Adapter {weights.name} needs its CLIP image encoder: none at {default}; "
                "pass image_encoder=<local CLIPVisionModelWithProjection directory>"
            )
    if kind == "faceid":
        _warn_missing_peft(weights)
    base = load_pipeline(model, kind="text2image", device=device, dtype=dtype)
    from diffusers import AutoPipelineForText2Image

    pipe = AutoPipelineForText2Image.from_pipe(base, unet=copy.deepcopy(base.unet))
    set_scheduler(pipe, scheduler)
    if image_encoder is not None and kind == "image":
        pipe.register_modules(image_encoder=_load_image_encoder(image_encoder, pipe))
    try:
        pipe.load_ip_adapter(
            str(weights.parent),
            subfolder="",
            weight_name=weights.name,
            image_encoder_folder="image_encoder" if kind == "image" else None,
            local_files_only=True,
        )
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise FacetoryError(
            f"cannot load IP-Adapter {weights} into {model}: {detail}"
        ) from exc
    pipe.set_progress_bar_config(disable=True)
    with _LOCK:
        _CACHE[key] = (pipe, kind)
    return pipe, kind


def _load_image_encoder(path: Path, pipe: Any) -> Any:
    from transformers import CLIPVisionModelWithProjection

    if not (Path(path) / "config.json").is_file():
        raise FacetoryError(f"image encoder not found: {path} has no config.json")
    try:
        encoder = CLIPVisionModelWithProjection.from_pretrained(
            str(path), local_files_only=True, dtype=pipe.unet.dtype
        )
    except (OSError, ValueError) as exc:
        raise FacetoryError(f"cannot load image encoder {path}: {exc}") from exc
    return encoder.to(pipe.device)


class IdentityConditionedGenerator:
    """Several images per synthetic person, each conditioned on that person's reference image."""

    name = IdentityConditionedConfig.backend
    capabilities = Capabilities(
        draws_levels=False, stylised=False, reads_age_gender=True, pure_recipes=False,
        identity="anchor", needs_gpu=True, acceptance=0.5, seconds_per_image=4.0,
    )

    def __init__(
        self,
        config: IdentityConditionedConfig,
        *,
        image_size: int = IMAGE_SIZE,
        id_embedder: IdEmbedder | None = None,
    ) -> None:
        d, ip = config.diffusers, config.identity
        check_settings(image_size, d.steps)
        self.config = config
        self.model = resolve_model(d.model)
        self.weights = resolve_adapter(ip.ip_adapter, ip.weight_name) if ip.ip_adapter else None
        if ip.weight_name and not ip.ip_adapter:
            raise FacetoryError("weight_name given without ip_adapter (the adapter directory)")
        self.image_encoder = Path(ip.image_encoder).expanduser() if ip.image_encoder else None
        if self.image_encoder is not None and not self.image_encoder.is_dir():
            raise FacetoryError(f"image encoder directory {self.image_encoder} does not exist")
        self.scale = ip.scale
        self.image_size = image_size
        self.steps = d.steps
        self.guidance_scale = d.guidance_scale
        self.device = d.device or default_device()
        self.strength = ip.strength
        self.batch_size = d.batch_size
        self.scheduler = d.scheduler
        self.dtype = d.dtype
        self.id_embedder = id_embedder
        self._blank_embeds: dict[int, tuple[Any, Any]] = {}

    @property
    def mode(self) -> str:
        """`ip-adapter` when an adapter is configured, else `img2img`."""
        return "ip-adapter" if self.weights is not None else "img2img"

    # ------------------------------------------------------------------ protocol
    def generate(
        self,
        items: Sequence[PlanItem],
        out_dir: Path,
        *,
        attempt: int = 0,
        references: Mapping[str, str | Path] | None = None,
    ) -> list[GeneratedImage]:
        """Draw each item conditioned on `references[item.identity]`, or txt2img without one."""
        check_items(items, after="nothing was generated")  # all of them, before any is drawn
        out_dir = Path(out_dir)
        references = references or {}
        loaded = _References(references, self.image_size)
        results: list[GeneratedImage] = []
        for batch, has_ref, guidance in self._runs(items, references):
            refs = [loaded.get(it.identity) for it in batch] if has_ref else []
            t0 = time.perf_counter()
            if self.weights is not None:
                images, how = self._adapter_batch(batch, refs, guidance)
            elif has_ref:
                images, how = self._img2img_batch(batch, refs, guidance), "img2img"
            else:
                images, how = self._txt2img_batch(batch, guidance), "txt2img"
            per_item = (time.perf_counter() - t0) * 1e3 / len(batch)
            for k, (item, image) in enumerate(zip(batch, images, strict=True)):
                ref = refs[k] if has_ref else None
                results.append(self._write(item, image, out_dir, attempt, guidance, how, ref,
                                           per_item))
        return results

    # ------------------------------------------------------------------ batches
    def _runs(
        self, items: Sequence[PlanItem], references: Mapping[str, Any]
    ) -> list[tuple[list[PlanItem], bool, float]]:
        """Consecutive items sharing (has a reference, guidance), at most batch_size long.

        With an adapter a batch also shares one identity: diffusers repeats the image
        embedding over the batch (it takes one per adapter, not one per prompt), so images
        of different people cannot share a call. Plans list a person's images together.
        """
        runs: list[tuple[list[PlanItem], bool, float]] = []
        for item in items:
            has_ref = item.identity is not None and item.identity in references
            guidance = self.guidance_scale if item.guidance_scale is None else item.guidance_scale
            last = runs[-1] if runs else None
            if (last and last[1] == has_ref and last[2] == guidance
                    and len(last[0]) < self.batch_size
                    and (self.weights is None or not has_ref
                         or last[0][0].identity == item.identity)):
                last[0].append(item)
            else:
                runs.append(([item], has_ref, guidance))
        return runs

    def _call(self, pipe: Any, batch: list[PlanItem], guidance: float, **kwargs: Any) -> list:
        images = run_pipeline(pipe, batch, steps=self.steps, guidance=guidance,
                              what="identity-conditioned generation", **kwargs)
        return [image.convert("RGB") for image in images]

    def _txt2img_batch(self, batch: list[PlanItem], guidance: float) -> list:
        pipe = load_pipeline(self.model, kind="text2image", device=self.device, dtype=self.dtype)
        set_scheduler(pipe, self.scheduler)
        return self._call(pipe, batch, guidance, height=self.image_size, width=self.image_size)

    def _img2img_batch(self, batch: list[PlanItem], refs: list[_Reference], guidance: float):
        pipe = load_pipeline(self.model, kind="image2image", device=self.device, dtype=self.dtype)
        set_scheduler(pipe, self.scheduler)
        return self._call(pipe, batch, guidance, image=[r.image for r in refs],
                          strength=self.strength)

    def _adapter_batch(
        self, batch: list[PlanItem], refs: list[_Reference], guidance: float
    ) -> tuple[list, str]:
        import torch

        pipe, kind = _load_adapter_pipeline(self.model, self.weights, self.image_encoder,
                                            self.scheduler, self.device, self.dtype)
        conditioned = bool(refs)
        # one embedding for the whole batch (all of one person): diffusers repeats it per prompt
        if conditioned:
            positive, negative = self._embed(pipe, kind, refs[0])
        else:
            positive, negative = self._blank(pipe, kind)
        cfg = guidance > 1.0 and getattr(pipe.unet.config, "time_cond_proj_dim", None) is None
        embeds = torch.cat([negative, positive], dim=0) if cfg else positive
        pipe.set_ip_adapter_scale(self.scale if conditioned else 0.0)
        try:
            images = self._call(pipe, batch, guidance, height=self.image_size,
                                width=self.image_size, ip_adapter_image_embeds=[embeds])
        finally:
            pipe.set_ip_adapter_scale(self.scale)
        how = ("faceid" if kind == "faceid" else "ip-adapter") if conditioned else "txt2img"
        return images, how

    def _embed(self, pipe: Any, kind: str, ref: _Reference) -> tuple[Any, Any]:
        """(positive, negative) embeddings of one reference, shaped (1, 1, ...) for one image."""
        import torch

        if ref.embeds is not None:
            return ref.embeds
        if kind == "faceid":
            if self.id_embedder is None:
                raise FacetoryError(
                    f"{self.weights.name} is a FaceID adapter: it needs an identity embedding "
                    "of the reference face; pass id_embedder (e.g. insightface ArcFace)"
                )
            layer = pipe.unet.encoder_hid_proj.image_projection_layers[0]
            width = layer.ff.net[0].proj.in_features
            vector = np.asarray(self.id_embedder(np.asarray(ref.image)), dtype=np.float32).ravel()
            if vector.shape != (width,):
                raise FacetoryError(
                    f"id_embedder returned {vector.shape[0]} numbers; the adapter wants {width}"
                )
            positive = torch.from_numpy(vector)[None, None].to(pipe.device, pipe.unet.dtype)
            ref.embeds = (positive, torch.zeros_like(positive))
            return ref.embeds
        from diffusers.models.embeddings import ImageProjection

        layer = pipe.unet.encoder_hid_proj.image_projection_layers[0]
        hidden = not isinstance(layer, ImageProjection)
        with torch.no_grad():
            positive, negative = pipe.encode_image(ref.image, pipe.device, 1, hidden)
        ref.embeds = (positive.unsqueeze(1), negative.unsqueeze(1))
        return ref.embeds

    def _blank(self, pipe: Any, kind: str) -> tuple[Any, Any]:
        """Embeddings of the right shape for items drawn with the adapter switched off."""
        from PIL import Image

        if id(pipe) in self._blank_embeds:
            return self._blank_embeds[id(pipe)]
        if kind == "faceid":
            import torch

            layer = pipe.unet.encoder_hid_proj.image_projection_layers[0]
            zero = torch.zeros(1, 1, layer.ff.net[0].proj.in_features, dtype=pipe.unet.dtype,
                               device=pipe.device)
            blank = (zero, zero)
        else:
            grey = Image.new("RGB", (self.image_size, self.image_size), (128, 128, 128))
            blank = self._embed(pipe, kind, _Reference(grey, "blank", ""))
        self._blank_embeds[id(pipe)] = blank
        return blank

    # ------------------------------------------------------------------ output
    def _write(
        self, item: PlanItem, image: Any, out_dir: Path, attempt: int, guidance: float,
        how: str, ref: _Reference | None, per_item_ms: float,
    ) -> GeneratedImage:
        path = out_dir / image_filename(item, attempt)
        prompt = item.prompt or default_prompt(item)
        extra: dict[str, object] = {
            "item_id": item.id, "steps": self.steps, "guidance_scale": guidance,
            "conditioning": how, "identity": item.identity or "",
        }
        if ref is not None:
            extra.update(reference=ref.name, reference_sha256=ref.sha256)
            if how == "img2img":
                extra["strength"] = self.strength
            else:
                extra.update(ip_adapter=self.weights.name, ip_adapter_scale=self.scale)
        t1 = time.perf_counter()
        write_png(path, image, provenance(generator=self.name, model=self.model, seed=item.seed,
                                          prompt=prompt, **extra))
        return GeneratedImage(
            item_id=item.id, path=str(path), width=image.width, height=image.height,
            backend=self.name, model=self.model, seed=item.seed, prompt=prompt,
            timings_ms={"generate": per_item_ms, "write": (time.perf_counter() - t1) * 1e3},
            truth=None,
        )


class _Reference:
    """A reference image, read once per `generate` call, with its embeddings once computed."""

    def __init__(self, image: Any, name: str, sha256: str) -> None:
        self.image = image
        self.name = name
        self.sha256 = sha256
        self.embeds: tuple[Any, Any] | None = None


class _References:
    def __init__(self, paths: Mapping[str, str | Path], size: int) -> None:
        self.paths = paths
        self.size = size
        self.loaded: dict[str, _Reference] = {}

    def get(self, identity: str | None) -> _Reference:
        if identity not in self.loaded:
            self.loaded[identity] = self._read(identity, Path(self.paths[identity]))
        return self.loaded[identity]

    def _read(self, identity: str, path: Path) -> _Reference:
        from PIL import Image, UnidentifiedImageError

        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FacetoryError(
                f"reference image for identity {identity!r} not found: {path}"
            ) from exc
        try:
            with Image.open(path) as image:
                rgb = image.convert("RGB")
        except (OSError, UnidentifiedImageError) as exc:
            raise FacetoryError(f"reference image {path} is unreadable: {exc}") from exc
        if rgb.size != (self.size, self.size):
            rgb = rgb.resize((self.size, self.size), Image.Resampling.LANCZOS)
        return _Reference(rgb, path.name, hashlib.sha256(data).hexdigest())
