"""The diffusers backends: any text-to-image model (SD 1.5, SDXL and kin) and its img2img twin.

Models come from a local directory or an already-populated Hugging Face cache: facetory never
downloads at run time (`local_files_only=True`), and says where it looked when a model is
missing. A pipeline loads once per process and is shared by every generator and augmenter
that names the same model; the image-to-image pipeline reuses the text-to-image weights.

Determinism: one `torch.Generator` per item, seeded with the item seed and kept on the CPU,
so an image depends on its own seed only (not on batch size, position or device type, up
to floating-point differences between devices).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.config import IMAGE_SIZE, DiffusersConfig
from tools.contracts import GeneratedImage, PlanItem
from tools.errors import FacetoryError
from tools.generate.base import Capabilities, image_filename
from tools.generate.provenance import provenance, write_png
from tools.safety import check_items

#: Short scheduler names accepted besides diffusers class names.
SCHEDULER_ALIASES = {
    "euler": "EulerDiscreteScheduler",
    "euler_a": "EulerAncestralDiscreteScheduler",
    "ddim": "DDIMScheduler",
    "dpm++": "DPMSolverMultistepScheduler",
    "dpmpp": "DPMSolverMultistepScheduler",
    "lcm": "LCMScheduler",
    "pndm": "PNDMScheduler",
    "unipc": "UniPCMultistepScheduler",
}

_CACHE: dict[tuple[str, str, str, str], Any] = {}
_LOCK = threading.Lock()


def default_device() -> str:
    """`cuda` when a GPU is visible, else `cpu`."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def quiet() -> None:
    """Silence progress bars and deprecation chatter; the agent prints its own progress."""
    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()  # "Loading weights" of transformers 5


def hub_cache_dir() -> str:
    """Where a model id is looked up (HF_HUB_CACHE, e.g. ~/.cache/huggingface/hub)."""
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def resolve_model(model: str | None) -> str:
    """A local pipeline directory as a string, or a hub model id; errors name what is wrong."""
    if not model or not str(model).strip():
        raise FacetoryError(
            "the diffusers backend needs a model: a local pipeline directory or a model id "
            "already in the Hugging Face cache (set generation.diffusers.model or --model)"
        )
    text = str(model).strip()
    path = Path(text).expanduser()
    looks_like_path = text.startswith(("/", ".", "~")) or text.count("/") > 1 or "\\" in text
    if path.exists():
        if not path.is_dir() or not (path / "model_index.json").is_file():
            raise FacetoryError(
                f"{path} is not a diffusers pipeline directory (no model_index.json); "
                "save one with pipeline.save_pretrained(dir)"
            )
        return str(path.resolve())
    if looks_like_path:
        raise FacetoryError(f"model directory {path} does not exist")
    return text


def load_pipeline(
    model: str | None,
    *,
    kind: str = "text2image",
    device: str | None = None,
    dtype: str | None = None,
    channels_last: bool | None = False,
    torch_compile: bool = False,
) -> Any:
    """The pipeline for `model`, loaded once per process (thread-safe).

    kind: `text2image` or `image2image` (built from the text-to-image pipeline's modules).
    dtype: `float16` or `float32`; default float16 on CUDA, float32 on CPU.
    channels_last, torch_compile: see `speed_up`; they change the shared pipeline in place,
    so once asked for they stay (the image-to-image pipeline shares the same UNet).
    """
    if kind not in ("text2image", "image2image"):
        raise FacetoryError(f"unknown pipeline kind {kind!r}: use text2image or image2image")
    source = resolve_model(model)
    device = device or default_device()
    dtype = dtype or ("float16" if device.startswith("cuda") else "float32")
    key = (source, device, dtype, kind)
    with _LOCK:
        pipe = _CACHE.get(key)
        if pipe is None:
            pipe = _CACHE[key] = _load(source, kind, device, dtype)
    speed_up(pipe, device=device, channels_last=channels_last, torch_compile=torch_compile)
    return pipe


def speed_up(
    pipe: Any, *, device: str, channels_last: bool | None = None, torch_compile: bool = False
) -> None:
    """Put the denoiser's and VAE's convolutions channels-last and `torch.compile` the UNet.

    channels_last None: on CUDA only (NHWC is what fp16 tensor-core convolutions want; on
    CPU it only costs a conversion). Both only ever add: asking again is free, and a later
    caller that does not ask leaves them on. The UNet is compiled in place
    (`nn.Module.compile`), so it keeps its class, attention processors and `from_pipe`.
    """
    import torch

    with _LOCK:
        if channels_last is None:
            channels_last = device.startswith("cuda")
        if channels_last:
            for name in ("unet", "transformer", "vae"):
                module = getattr(pipe, name, None)
                if module is not None and not channels_last_weights(module):
                    module.to(memory_format=torch.channels_last)
        unet = getattr(pipe, "unet", None)
        if torch_compile and unet is not None and not is_compiled(unet):
            unet.compile()


def is_compiled(module: Any) -> bool:
    """Whether `nn.Module.compile` was called on `module`."""
    return getattr(module, "_compiled_call_impl", None) is not None


def channels_last_weights(module: Any) -> bool:
    """Whether every 4-d weight of `module` (its convolutions) is stored channels-last."""
    import torch

    weights = [p for p in module.parameters() if p.dim() == 4]
    return bool(weights) and all(
        p.is_contiguous(memory_format=torch.channels_last) for p in weights
    )


def _load(source: str, kind: str, device: str, dtype: str) -> Any:
    """A new pipeline (the caller holds `_LOCK`); image-to-image from the text-to-image one."""
    import torch
    from diffusers import AutoPipelineForImage2Image

    quiet()
    if kind == "image2image":
        base = _CACHE.get((source, device, dtype, "text2image"))
        if base is None:
            base = _CACHE[(source, device, dtype, "text2image")] = _load(
                source, "text2image", device, dtype
            )
        pipe = AutoPipelineForImage2Image.from_pipe(base)
    else:
        pipe = _load_text2image(source, device, getattr(torch, dtype))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _dtype_kwarg(torch_dtype: Any) -> dict[str, Any]:
    """diffusers >= 0.36 takes `dtype`; older releases only know `torch_dtype`."""
    try:
        from diffusers.utils.deprecation_utils import _resolve_dtype  # noqa: F401
    except ImportError:
        return {"torch_dtype": torch_dtype}
    return {"dtype": torch_dtype}


def _load_text2image(source: str, device: str, torch_dtype: Any) -> Any:
    from diffusers import AutoPipelineForText2Image

    try:
        pipe = AutoPipelineForText2Image.from_pretrained(
            source, local_files_only=True, **_dtype_kwarg(torch_dtype)
        )
    except (OSError, ValueError) as exc:
        where = source if Path(source).is_dir() else f"the Hugging Face cache at {hub_cache_dir()}"
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise FacetoryError(
            f"cannot load model {source!r} (looked in {where}): {detail} - facetory never "
            "downloads at run time; fetch it on a connected machine with "
            f"`huggingface-cli download {source}` or pass a local pipeline directory"
        ) from exc
    try:
        pipe = pipe.to(device)
    except (RuntimeError, AssertionError) as exc:
        raise FacetoryError(f"cannot move model to device {device!r}: {exc}") from exc
    return pipe


def attention_processors(pipe: Any) -> set[str]:
    """Names of the attention processors in the denoiser (AttnProcessor2_0 is SDPA)."""
    denoiser = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
    procs = getattr(denoiser, "attn_processors", {}) or {}
    return {type(p).__name__ for p in procs.values()}


def set_scheduler(pipe: Any, name: str | None) -> None:
    """Swap the pipeline's scheduler by class name or alias (e.g. `lcm`, `euler_a`)."""
    if not name:
        return
    import diffusers

    cls_name = SCHEDULER_ALIASES.get(name.lower(), name)
    cls = getattr(diffusers, cls_name, None)
    if cls is None or not hasattr(cls, "from_config"):
        known = ", ".join(sorted(SCHEDULER_ALIASES))
        raise FacetoryError(f"unknown scheduler {name!r}: use a diffusers class name or {known}")
    if type(pipe.scheduler).__name__ != cls_name:
        pipe.scheduler = cls.from_config(pipe.scheduler.config)


def default_prompt(item: PlanItem) -> str:
    """A plain prompt from the class and attributes, for items the planner left without one."""
    words = [f"{level} {factor.replace('_', ' ')}" for factor, level in item.attributes.items()]
    subject = item.class_name.replace("_", " ")
    return ", ".join([f"a photo of a {subject} face", *words])


def torch_generator(seed: int) -> Any:
    """A CPU torch.Generator for `seed` (CPU generators make results device-independent)."""
    import torch

    return torch.Generator(device="cpu").manual_seed(int(seed) % (2**63))



def check_settings(image_size: int, steps: int) -> None:
    """Diffusers' latent grid needs a size divisible by 8; a run needs at least one step."""
    if image_size % 8 or image_size < 64:
        raise FacetoryError(
            f"image_size must be a multiple of 8 and at least 64 for diffusers, got {image_size}"
        )
    if steps < 1:
        raise FacetoryError(f"steps must be at least 1, got {steps}")

class DiffusersGenerator:
    """Text-to-image generation with any diffusers pipeline, batched and seeded per item."""

    name = DiffusersConfig.backend
    capabilities = Capabilities(
        draws_levels=False, stylised=False, reads_age_gender=True, pure_recipes=False,
        identity="none", needs_gpu=True, acceptance=0.6, seconds_per_image=4.0,
    )

    def __init__(self, config: DiffusersConfig, *, image_size: int = IMAGE_SIZE) -> None:
        check_settings(image_size, config.steps)
        self.config = config
        self.model = resolve_model(config.model)
        self.image_size = image_size
        self.steps = config.steps
        self.guidance_scale = config.guidance_scale
        self.device = config.device
        self.scheduler = config.scheduler
        self.batch_size = config.batch_size
        self.dtype = config.dtype
        self.channels_last = config.channels_last
        self.torch_compile = config.torch_compile

    @property
    def pipeline(self) -> Any:
        """The shared text-to-image pipeline (loaded on first use)."""
        return load_pipeline(
            self.model, kind="text2image", device=self.device, dtype=self.dtype,
            channels_last=self.channels_last, torch_compile=self.torch_compile,
        )

    def generate(
        self, items: Sequence[PlanItem], out_dir: Path, *, attempt: int = 0
    ) -> list[GeneratedImage]:
        """Generate each item; items sharing a guidance scale run in batches."""
        check_items(items, after="nothing was generated")  # all of them, before any is drawn
        out_dir = Path(out_dir)
        pipe = self.pipeline
        set_scheduler(pipe, self.scheduler)
        results: list[GeneratedImage] = []
        for batch in pipeline_batches(items, self.batch_size, self.guidance_scale):
            guidance = batch[0].guidance_scale
            guidance = self.guidance_scale if guidance is None else guidance
            prompts = [it.prompt or default_prompt(it) for it in batch]
            t0 = time.perf_counter()
            images = run_pipeline(
                pipe, batch, steps=self.steps, guidance=guidance, what="diffusers generation",
                height=self.image_size, width=self.image_size,
            )
            per_item = (time.perf_counter() - t0) * 1e3 / len(batch)
            for item, image, prompt in zip(batch, images, prompts, strict=True):
                path = out_dir / image_filename(item, attempt)
                t1 = time.perf_counter()
                fields = provenance(
                    generator=self.name, model=self.model, seed=item.seed, prompt=prompt,
                    item_id=item.id, steps=self.steps, guidance_scale=guidance,
                    scheduler=type(pipe.scheduler).__name__,
                )
                write_png(path, image.convert("RGB"), fields)
                results.append(
                    GeneratedImage(
                        item_id=item.id,
                        path=str(path),
                        width=image.width,
                        height=image.height,
                        backend=self.name,
                        model=self.model,
                        seed=item.seed,
                        prompt=prompt,
                        timings_ms={"generate": per_item,
                                    "write": (time.perf_counter() - t1) * 1e3},
                        truth=None,
                    )
                )
        return results


def run_pipeline(
    pipe: Any, batch: Sequence[PlanItem], *, steps: int, guidance: float, what: str,
    **kwargs: Any,
) -> list:
    """One pipeline call for a batch of plan items (their prompts, negatives and seeds); the
    PIL images out. A failure inside diffusers becomes a one-line FacetoryError naming `what`.
    Every prompt is safety-checked here, the door all diffusers generation passes."""
    check_items(batch, after="nothing was generated")
    prompts = [it.prompt or default_prompt(it) for it in batch]
    negatives = [it.negative_prompt for it in batch]
    try:
        out = pipe(
            prompt=prompts,
            negative_prompt=negatives if any(negatives) else None,
            num_inference_steps=steps,
            guidance_scale=guidance,
            generator=[torch_generator(it.seed) for it in batch],
            **kwargs,
        )
    except (RuntimeError, ValueError, TypeError) as exc:
        raise FacetoryError(f"{what} failed for {batch[0].id}: {exc}") from exc
    return list(out.images)


def pipeline_batches(
    items: Sequence[PlanItem], size: int, default_guidance: float
) -> list[list[PlanItem]]:
    """Consecutive runs of items with the same guidance scale, at most `size` long: one
    pipeline call each (`tools.execution.ray_generator.RayGenerator` hands each to one GPU
    actor)."""
    batches: list[list[PlanItem]] = []
    for item in items:
        g = default_guidance if item.guidance_scale is None else item.guidance_scale
        last = batches[-1] if batches else None
        if last is not None and len(last) < size:
            lg = default_guidance if last[0].guidance_scale is None else last[0].guidance_scale
            if lg == g:
                last.append(item)
                continue
        batches.append([item])
    return batches
