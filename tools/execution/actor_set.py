"""A set of Ray actors of one kind, mapped over in order, replaced when one dies or stalls:
what the critic actors (`tools.execution.ray_actors.RayPool`) and the generator actors
(`tools.execution.ray_generator`) run on.

Tasks go to the actors in turn and come back in the tasks' order. A batch with no task
ending and no actor on this node running for the stall timeout is the process pool's stall
(`tools.execution.base.StallPolicy`): its actors are killed (their processes too, where this
node has them: `ray.kill` leaves a stopped process behind) and it runs again on fresh ones,
once. Ray is imported only here and lazily (`ray_module`).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from tools.errors import FacetoryError
from tools.execution.base import Stalled, StallPolicy, cpu_ticks, process_state

INSTALL_HINT = "pip install 'facetory[ray]'"


def ray_module() -> Any:
    """Ray, imported on first use; not installed is one line saying how to install it."""
    try:
        import ray
    except ImportError:
        raise FacetoryError(
            f"--executor ray needs Ray, which is not installed: {INSTALL_HINT}, "
            "or run without --executor ray"
        ) from None
    return ray


class Actor:
    """What every facetory actor answers besides its work: where it runs (so the driver can
    watch a stall on its own node as the process pool does)."""

    def where(self) -> tuple[str, int]:
        """This actor's node id and process id."""
        return ray_module().get_runtime_context().get_node_id(), os.getpid()

    def heard(self, where: tuple[str, int]) -> None:
        """Nothing, run once the driver has `where`'s answer (Ray hands it over first): the
        actor's work waits for it, so a worker stopped at once is still known by its pid."""


def died_errors(ray: Any) -> tuple[type[BaseException], ...]:
    """Ray's errors for an actor (or its process) that went away."""
    errors = ray.exceptions
    return tuple(
        getattr(errors, name)
        for name in ("RayActorError", "WorkerCrashedError", "ActorUnavailableError",
                     "LocalRayletDiedError", "NodeDiedError")
        if hasattr(errors, name)
    )


def _unwrapped(exc: BaseException) -> BaseException:
    """The exception a task raised, without Ray's wrapper (whose text is a traceback)."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, Exception) else exc


@dataclass
class Sent:
    """Tasks sent to an `ActorSet`'s actors: their refs and the actor each went to."""

    refs: list[Any]
    actors: list[Any]
    owner: dict[Any, int]
    """Each ref's actor, by its place in `actors`."""


class ActorSet:
    """`count` actors of one kind (`body`, an `Actor`, made a Ray actor with `options`,
    started with `args`), mapped over in order, replaced when one dies or stalls (`stall`,
    the process pool's `StallPolicy`); started on first use."""

    def __init__(self, body: type, count: int, options: dict[str, Any], args: tuple,
                 stall: StallPolicy | None = None) -> None:
        self._body, self._count, self._options, self._args = body, count, options, args
        self.stall = stall or StallPolicy()
        self._actors: list[Any] = []
        self._where: list[Any] = []
        """Each actor's `where()`, asked when it started (answered once it has loaded)."""
        self._pids: dict[int, int | None] = {}

    @property
    def count(self) -> int:
        return self._count

    def start(self) -> list[Any]:
        if not self._actors:
            ray = ray_module()
            cls = ray.remote(**self._options)(self._body)
            self._actors = [cls.remote(*self._args) for _ in range(self._count)]
            self._where = [actor.where.remote() for actor in self._actors]
            for actor, where in zip(self._actors, self._where, strict=True):
                actor.heard.remote(where)
            self._pids = {}
        return self._actors

    def send(self, call: Callable[[Any, Any], Any], tasks: list[Any]) -> Sent:
        """`call(actor, task)` (an actor method's `.remote(...)`) for every task, spread over
        the actors in turn, started now."""
        actors = self.start()
        refs = [call(actors[i % len(actors)], task) for i, task in enumerate(tasks)]
        return Sent(refs, actors, {ref: i % len(actors) for i, ref in enumerate(refs)})

    def map(
        self, call: Callable[[Any, Any], Any], tasks: list[Any], *, what: str, attempts: int = 2
    ) -> list[Any]:
        """`call(actor, task)` for every task, results in task order; a death or a stall
        makes every task run again on fresh actors (`attempts` in all)."""
        ray = ray_module()
        for attempt in range(attempts):
            try:
                return self.collect(self.send(call, tasks), what=what,
                                    last=attempt == attempts - 1)
            except (*died_errors(ray), Stalled):
                self.close()
        raise FacetoryError(
            f"a Ray actor died twice while {what}; nothing of the batch was recorded. "
            "Check the cluster's memory (`ray status`), then run again to resume"
        )

    def collect(self, sent: Sent, *, what: str, last: bool) -> list[Any]:
        """The results of `sent` in task order. A stall (`StallPolicy`): its actors are
        killed, and `Stalled` (run it again) or, on the `last` attempt, a FacetoryError naming
        them; an actor's death raises Ray's error; a task's own error is raised as itself."""
        ray = ray_module()
        try:
            stuck = self.stall.watch(set(sent.refs), wait=_wait_raising,
                                     busy=lambda waiting: self._cpu_ticks(sent, waiting))
            if stuck:
                raise self.stall.stalled(self._kill_stuck(sent, stuck), what=what, last=last,
                                         again="on fresh actors")
            return ray.get(sent.refs)
        except ray.exceptions.RayTaskError as exc:
            self.close()  # actors whose task failed may hold its half-done state
            raise _unwrapped(exc) from None

    def settle(self, sent: Sent) -> None:
        """Wait until nothing of `sent` runs any more, whatever its outcome (a stall kills its
        actors, as in `collect`)."""
        ray = ray_module()
        stuck = self.stall.watch(set(sent.refs), wait=_wait_ended,
                                 busy=lambda waiting: self._cpu_ticks(sent, waiting))
        if stuck:
            self._kill_stuck(sent, stuck)
            ray.wait(sent.refs, num_returns=len(sent.refs))  # the killed actors fail them

    def close(self) -> None:
        if self._actors:
            self._end(self._actors)

    def close_if_current(self, actors: list[Any]) -> None:
        """Close the actors when they are still this set's (not fresh ones started since)."""
        if self._actors is actors:
            self.close()

    def _end(self, actors: list[Any]) -> None:
        ray = ray_module()
        for actor in actors:
            ray.kill(actor)
        if actors is self._actors:
            self._actors, self._where, self._pids = [], [], {}

    def _pid(self, sent: Sent, index: int) -> int | None:
        """The process id of `sent`'s actor `index` when it runs on this node and has said
        where it runs; None: not known (then only ended tasks count as progress)."""
        if sent.actors is not self._actors or index >= len(self._where):
            return None
        if index not in self._pids:
            ray = ray_module()
            ref = self._where[index]
            if not ray.wait([ref], timeout=0)[0]:
                return None  # still loading (or stopped before it could answer)
            try:
                node, pid = ray.get(ref)
            except ray.exceptions.RayError:
                node, pid = None, None
            here = ray.get_runtime_context().get_node_id()
            self._pids[index] = pid if node == here else None
        return self._pids[index]

    def _cpu_ticks(self, sent: Sent, waiting: set[Any]) -> dict[int, int]:
        """CPU time the main thread of each actor with a task still waiting has used so far."""
        owners = {sent.owner[ref] for ref in waiting}
        pids = {i: self._pid(sent, i) for i in sorted(owners)}
        return {i: cpu_ticks(pid, main_thread=True) for i, pid in pids.items() if pid}

    def _kill_stuck(self, sent: Sent, stuck: set[Any]) -> str:
        """End `sent`'s actors (their processes too, where this node has them: a stopped one
        outlives `ray.kill`); name the stuck ones (stopped, if any)."""
        owners = sorted({sent.owner[ref] for ref in stuck})
        pids = [pid for i in owners if (pid := self._pid(sent, i))]
        every = [pid for i in range(len(sent.actors)) if (pid := self._pid(sent, i))]
        stopped = [pid for pid in pids if process_state(pid) in {"T", "t"}]
        for pid in every:
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        self._end(sent.actors)
        named = stopped or pids
        plural = "s" if len(named or owners) > 1 else ""
        if not named:
            return f"{len(owners)} Ray actor{plural}"
        pids_said = ", ".join(map(str, named))
        return f"{'stopped ' if stopped else ''}Ray actor{plural} (pid {pids_said})"


def _wait_ended(waiting: set[Any], timeout: float) -> tuple[set[Any], set[Any]]:
    """(ended, still waiting) once one of `waiting` (Ray refs) has ended or after `timeout`."""
    ready, rest = ray_module().wait(list(waiting), num_returns=1, timeout=timeout)
    return set(ready), set(rest)


def _wait_raising(waiting: set[Any], timeout: float) -> tuple[set[Any], set[Any]]:
    """`_wait_ended`, raising what an ended task raised (a dead actor's error now, not at
    the end)."""
    ready, rest = _wait_ended(waiting, timeout)
    if ready:
        ray_module().get(list(ready))
    return ready, rest
