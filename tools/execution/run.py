"""The executors of one run of a build, in one object: what runs a batch's per-image work,
and what is in flight ahead of the batch being recorded.

- `images(n, own=...)`: the pool of `workers` processes or Ray actors (`ImageWorkers.pooled`,
  started on first use) for more than one image when there is one and the tool is the
  default; else this process (`ImageWorkers.here`: one worker, or a test's own tool);
- `render_ahead()`: the procedural renderer's jobs on that pool (`tools.execution.render_ahead`);
- `drawing_ahead`: a diffusion model's next batch on a thread (`tools.execution.draw_ahead`);
- `close`: waits for what is in flight, deletes what it drew that no record names, and stops
  the workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.config import STALL_SECONDS
from tools.execution.draw_ahead import DrawAhead
from tools.execution.images import ImageWorkers
from tools.execution.render_ahead import RenderAhead


@dataclass(frozen=True)
class ExecutionOptions:
    """How a run executes (never what it produces): `workers` processes (1: this process) on
    the `executor` (`local` or `ray`, at `address`), with the pool's stall timeout."""

    workers: int = 1
    executor: str = "local"
    address: str | None = None
    stall_seconds: float = STALL_SECONDS

    @property
    def pooled(self) -> bool:
        """Whether per-image work goes to a pool: several workers, or Ray's actors."""
        return self.workers > 1 or self.executor == "ray"


class RunExecutors:
    """The executors of one run, created on first use (`close` ends them).

    `critic_config` gives the config each pool worker builds its critic from (None: the pool
    does not judge); `here` gives this process's `ImageWorkers`; `on_pool` is called once the
    pool is made, `notice` with a line when a stalled batch runs again.
    """

    def __init__(
        self, options: ExecutionOptions, *, critic_config: Callable[[], Any],
        here: Callable[[], ImageWorkers], on_pool: Callable[[], None] = lambda: None,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.options = options
        self._critic_config, self._here, self._on_pool = critic_config, here, on_pool
        self._notice = notice
        self._pool: ImageWorkers | None = None
        self._local: ImageWorkers | None = None
        self._ahead: RenderAhead | None = None
        self.drawing_ahead: DrawAhead | None = None
        """A diffusion model's next batch in flight, set by the generate node."""

    def images(self, n: int, *, own: bool = False) -> ImageWorkers:
        """Where `n` images' work runs: the pool for more than one image when the run has
        one and the tool is the default (`own` False), else this process."""
        if not own and self.options.pooled and n > 1:
            return self.pooled()
        if self._local is None:
            self._local = self._here()
        return self._local

    def pooled(self) -> ImageWorkers:
        """The pool of `options.workers` processes or actors, made on first use."""
        if self._pool is None:
            o = self.options
            self._pool = ImageWorkers.pooled(
                o.workers, self._critic_config(), executor=o.executor, address=o.address,
                stall_seconds=o.stall_seconds, notice=self._notice)
            self._on_pool()
        return self._pool

    def start(self) -> None:
        """Start the pool now (when the run uses one) so it loads while a batch generates."""
        if self.options.pooled:
            self.pooled().start()

    def render_ahead(self) -> RenderAhead:
        """The pool's batches in flight, created on first use."""
        if self._ahead is None:
            self._ahead = RenderAhead(self.pooled())
        return self._ahead

    def close(self, recorded: Callable[[], set[Path]], *, keep_pool: bool = False) -> None:
        """Wait for what is in flight and delete what it drew that `recorded()` (resolved
        paths) does not name; stop the pool unless `keep_pool` (idle: nothing in flight)."""
        aheads = [a for a in (self._ahead, self.drawing_ahead) if a is not None]
        if aheads:
            names = recorded()
            for ahead in aheads:
                ahead.close(lambda path: path.resolve() in names)
            self._ahead = self.drawing_ahead = None
        if self._pool is not None and not keep_pool:
            self._pool.close()
            self._pool = None
