"""A batch's per-image work (judge, embed, describe, or all of it from a recipe) on any
executor, and the executor a build's options ask for."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from tools.config import STALL_SECONDS
from tools.contracts import Box, PlanItem, Verdict
from tools.errors import FacetoryError
from tools.execution import image_tasks
from tools.execution.base import BatchExecutor, Pending
from tools.execution.image_tasks import Prepared, RenderJob, prepare, prepare_shipped


def make_executor(
    workers: int,
    *,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    executor: str = "local",
    address: str | None = None,
    stall_seconds: float = STALL_SECONDS,
    notice: Callable[[str], None] | None = None,
) -> BatchExecutor:
    """A `WorkerPool` (`executor` local) or a `RayPool` of `workers` actors (ray): the same
    guarantees (one stall policy, and no more workers than the machine or cluster holds)."""
    if executor == "ray":
        from tools.execution.ray_actors import RayPool

        return RayPool(workers, initializer=initializer, initargs=initargs, address=address,
                       stall_seconds=stall_seconds, notice=notice)
    from tools.execution.pool import WorkerPool

    return WorkerPool(workers, initializer=initializer, initargs=initargs,
                      stall_seconds=stall_seconds, notice=notice)


class ImageWorkers:
    """The critic, the image embedding and the face descriptor on a `BatchExecutor`:
    worker processes or actors (`pooled`), or this process (`here`)."""

    def __init__(
        self, pool: BatchExecutor, *, judges: bool, ships: bool = False,
        critic: Callable[[], Any] | None = None,
        embedder: Callable[[Path], np.ndarray] = image_tasks.embed,
        describer: Callable[[tuple[Path, Box]], np.ndarray] = image_tasks.describe,
    ) -> None:
        self.pool = pool
        self._judges = judges
        self._ships = ships
        """Ray's actors may run on nodes without the build's folder: what they draw comes
        back as bytes (`image_tasks.prepare_shipped`); local workers write it."""
        self._critic = critic
        """Gives this process's critic, built on first use (None: each worker's own)."""
        self._judge: Callable[[tuple[Path, PlanItem]], Verdict] = (
            image_tasks.judge if critic is None else partial(_judge_with, critic))
        self._embed = embedder
        self._describe = describer

    @classmethod
    def pooled(
        cls, workers: int, critic_config: Any = None, *, executor: str = "local",
        address: str | None = None, stall_seconds: float = STALL_SECONDS,
        notice: Callable[[str], None] | None = None,
    ) -> ImageWorkers:
        """On `workers` processes (`executor` local) or Ray actors (ray), each building its
        critic from `critic_config` (a `tools.critic.CriticConfig`; None: it does not judge)."""
        pool = make_executor(
            workers, initializer=image_tasks.start_worker, initargs=(critic_config,),
            executor=executor, address=address, stall_seconds=stall_seconds, notice=notice)
        return cls(pool, judges=critic_config is not None, ships=executor == "ray")

    @classmethod
    def here(
        cls, critic: Callable[[], Any], embedder: Callable[[Path], np.ndarray],
        describer: Callable[[Path, Box], np.ndarray],
    ) -> ImageWorkers:
        """In this process (`tools.execution.inprocess.InProcess`), with its own tools (a
        test's, or the driver's); `critic` gives the critic (called when first needed)."""
        from tools.execution.inprocess import InProcess

        return cls(InProcess(), judges=True, critic=critic, embedder=embedder,
                   describer=partial(_star, describer))

    def judge_many(self, pairs: Iterable[tuple[Path, PlanItem]]) -> list[Verdict]:
        """The critic's verdicts on (image path, plan item) pairs, in order."""
        if not self._judges:
            raise FacetoryError("this worker pool was started without a critic")
        return self.pool.map(self._judge, list(pairs), what="judging a batch")

    def embed_many(self, paths: Iterable[Path]) -> list[np.ndarray]:
        """`tools.stores.embed.embed_file` of each path, in order."""
        return self.pool.map(self._embed, list(paths), what="embedding a batch")

    def describe_many(self, pairs: Iterable[tuple[Path, Box]]) -> list[np.ndarray]:
        """`tools.stores.embed.describe_file` of each (path, face box), in order."""
        return self.pool.map(self._describe, list(pairs), what="describing the faces of a batch")

    def prepare_async(self, jobs: Sequence[RenderJob]) -> Pending[Prepared]:
        """`image_tasks.prepare` of each job (draw, judge, embed, describe), started now;
        `Pending.result()` gives them in order, and `image_tasks.land` writes those drawn
        elsewhere (Ray) into the build."""
        if not self._judges and any(job.judge is not None for job in jobs):
            raise FacetoryError("this worker pool was started without a critic")
        run = prepare_shipped if self._ships else prepare
        if self._critic is not None:
            run = partial(run, critic=self._critic())
        return self.pool.map_async(run, list(jobs), what="drawing and judging a batch")

    def start(self) -> None:
        self.pool.start()

    def close(self) -> None:
        self.pool.close()


def _judge_with(critic: Callable[[], Any], pair: tuple[Path, PlanItem]) -> Verdict:
    return critic().judge(*pair)


def _star(fn: Callable[..., Any], pair: tuple[Any, ...]) -> Any:
    return fn(*pair)
