"""The executor on Ray actors, one per CPU (`--executor ray`).

`facetory run DIR --executor ray [--address HOST:6379]` runs a build's parallel work on a Ray
cluster (or on a Ray started here when no address is given) instead of a local process pool:

- `RayPool` is `tools.execution.pool.WorkerPool` on actors: `map(fn, items, what=...)` hands back
  results in item order, `map_async` starts them and returns at once; an actor that dies
  mid-batch makes the whole batch run again on fresh actors, once; a second death is a
  `FacetoryError`. Each actor runs the pool's initializer once (the critic's models load
  once per actor, not once per image). A stalled batch, and the most actors a command
  gets, follow the pool's code (`tools.execution.base.StallPolicy` and `worker_cap`, through
  `tools.execution.actor_set` and `cluster_cap`).
- An image an actor must read travels with the task as bytes, and one it draws comes back
  as bytes (`tools.execution.image_tasks.prepare_shipped`; `tools.execution.ray_generator`
  for diffusion), so no
  filesystem is shared with the driver.

Nothing here writes to the build: the graph and the manifest stay in the driver.
Ray is an optional extra (`pip install 'facetory[ray]'`): it is imported only here and in
`tools.execution.actor_set`, lazily.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from tools.config import STALL_SECONDS
from tools.errors import FacetoryError
from tools.execution.actor_set import (
    Actor,
    ActorSet,
    Sent,
    died_errors,
    ray_module,
)
from tools.execution.base import Stalled, StallPolicy, chunks, cores, worker_cap, workers_within

T = TypeVar("T")
R = TypeVar("R")

#: Seconds to wait for a TCP answer at `--address` before saying nothing answers there
#: (`ray.init` itself retries a dead address for minutes).
PROBE_TIMEOUT_S = 5.0


def connect(address: str | None = None) -> None:
    """Join the Ray cluster at `address` (or `RAY_ADDRESS`), else start one on this machine.

    Quiet and quick: no dashboard, no worker logs copied to this terminal, one CPU per core
    this process may use (5-7 s to start on the shared 2-core test machine). Does nothing
    when this process is already connected.
    """
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is not None and "RAY_AUTH_MODE" not in os.environ and _token_at_hand():
        # `ray start` turns token authentication on and a driver must say it has the token
        # (read when Ray is imported); a cluster without authentication accepts such a
        # driver too (tried with Ray 2.60)
        os.environ["RAY_AUTH_MODE"] = "token"
    ray = ray_module()
    if ray.is_initialized():
        return
    quiet: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.ERROR,
        "configure_logging": True,
    }
    if address is None:
        ray.init(num_cpus=cores(), **quiet)
        return
    if address != "auto":
        _probe(address)
    try:
        ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError) as exc:
        if _refused_for_token(exc):
            raise FacetoryError(
                f"the Ray cluster at {address} refused this machine's token: put the one "
                "`ray get-auth-token` prints on its head node in ~/.ray/auth_token here (or "
                "in RAY_AUTH_TOKEN), then run again"
            ) from None
        raise FacetoryError(f"could not join the Ray cluster at {address}: {exc}") from None


def _token_at_hand() -> bool:
    """Whether this machine has a Ray token to send (where Ray looks for one)."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or "~/.ray/auth_token"
    return Path(path).expanduser().is_file()


def _refused_for_token(exc: BaseException | None) -> bool:
    """Whether Ray's error (or one it was raised from) is its token authentication's."""
    while exc is not None:  # Ray 2.60 chains it, or quotes it in a RuntimeError's text
        if type(exc).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def cluster_cpus() -> int:
    """CPUs of the connected cluster (one critic actor each by default)."""
    return max(1, int(ray_module().cluster_resources().get("CPU", 1)))


def cluster_cap() -> tuple[int, str]:
    """The most critic actors the connected cluster holds, and why (`worker_cap` of its CPUs
    and the memory Ray may give its tasks): more would wait for a CPU for ever."""
    resources = ray_module().cluster_resources()
    memory = resources.get("memory")
    return worker_cap(cpus=max(1, int(resources.get("CPU", 1))),
                      memory_mb=int(memory) // 2**20 if memory else None)


def cluster_gpus() -> int:
    """GPUs of the connected cluster (one generator actor each)."""
    return int(ray_module().cluster_resources().get("GPU", 0))


def _probe(address: str) -> None:
    """One line, and no wait of minutes, when nothing listens at HOST:PORT."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise FacetoryError(
            f"--address {address!r} is not HOST:PORT: give the head node's address as "
            "`ray start --head` printed it, e.g. 10.0.0.5:6379"
        )
    try:
        with socket.create_connection((host, int(port)), timeout=PROBE_TIMEOUT_S):
            pass
    except OSError:
        raise FacetoryError(
            f"nothing answers at {address}: start the head node there with `ray start --head` "
            "(it prints the address to pass), or leave out --address to start Ray on this "
            "machine"
        ) from None


# --- files as bytes -----------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    """An image the driver has, sent with a task: its path there and its bytes."""

    path: str
    data: bytes


def _ship(value: Any) -> Any:
    """`value` with every Path of an existing file (also inside tuples) replaced by a _File."""
    if isinstance(value, Path) and value.is_file():
        return _File(str(value), value.read_bytes())
    if isinstance(value, tuple):
        return tuple(_ship(v) for v in value)
    return value


def _land(value: Any, scratch: Path) -> Any:
    """The actor's side of `_ship`: the driver's path where this node sees the same file,
    else a copy under `scratch` with the same name."""
    if isinstance(value, _File):
        path = Path(value.path)
        if path.is_file():
            return path
        copy = scratch / f"{abs(hash(value.path)):x}" / path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(value.data)
        return copy
    if isinstance(value, tuple):
        return tuple(_land(v, scratch) for v in value)
    return value


# --- actors ---------------------------------------------------------------------------------


class _Worker(Actor):
    """A critic actor's body: the pool's initializer once, then chunks of `fn` calls."""

    def __init__(self, initializer: Callable[..., None] | None, initargs: tuple) -> None:
        self._scratch = Path(tempfile.mkdtemp(prefix="facetory-ray-"))
        if initializer is not None:
            initializer(*initargs)

    def run(self, fn: Callable[[Any], Any], chunk: list[Any]) -> list[Any]:
        landed = [_land(item, self._scratch) for item in chunk]
        try:
            return [fn(item) for item in landed]
        finally:
            for item in landed:
                _forget(item, self._scratch)


def _forget(value: Any, scratch: Path) -> None:
    """Remove the copies `_land` made under `scratch` (never the driver's own files)."""
    for v in value if isinstance(value, tuple) else (value,):
        if isinstance(v, Path) and scratch in v.parents:
            v.unlink(missing_ok=True)


class RayPool:
    """`tools.execution.pool.WorkerPool` on Ray: `workers` actors of one CPU each (None: one per CPU
    of the cluster), never more than the cluster holds (`cluster_cap`), each running
    `initializer(*initargs)` once when it starts; a stalled batch as the pool's
    (`StallPolicy` of `stall_seconds`, said through `notice`)."""

    def __init__(
        self,
        workers: int | None = None,
        *,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
        address: str | None = None,
        stall_seconds: float = STALL_SECONDS,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self._requested = None if workers is None else workers_within(workers, None)
        self._address = address
        self._init = (initializer, initargs)
        self.stall = StallPolicy(stall_seconds, *([notice] if notice else []))
        self._actors: ActorSet | None = None

    @property
    def workers(self) -> int:
        """Actors in the pool (connects to the cluster to count its CPUs when not given)."""
        return self._pool().count

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, what: str) -> list[R]:
        """`fn` of every item, in the items' order; `what` names the work in an error.
        `fn` must be a module-level function importable on the cluster's nodes."""
        if not items:
            return []
        return self._map(fn, items, what=what, attempts=2)

    def map_async(self, fn: Callable[[T], R], items: Sequence[T], *, what: str) -> RayPending[R]:
        """Start `fn` of every item now, one task an item spread over the actors, and return
        at once; `RayPending.result()` is what `map` would have returned (as
        `tools.execution.pool.WorkerPool.map_async`)."""
        sent = self._pool().send(lambda actor, item: actor.run.remote(fn, [_ship(item)]),
                                 list(items))
        return RayPending(self, fn, list(items), what, sent)

    def _map(self, fn: Callable[[T], R], items: Sequence[T], *, what: str, attempts: int
             ) -> list[R]:
        if not items:
            return []
        pool = self._pool()
        parts = [[_ship(x) for x in part] for part in chunks(items, pool.count)]
        done = pool.map(lambda actor, chunk: actor.run.remote(fn, chunk), parts, what=what,
                        attempts=attempts)
        return [result for chunk in done for result in chunk]

    def start(self) -> None:
        """Start every actor now, without waiting: their model loading overlaps whatever the
        caller does next."""
        self._pool().start()

    def close(self) -> None:
        """Stop the actors (they are started again on the next `map`)."""
        if self._actors is not None:
            self._actors.close()

    def _pool(self) -> ActorSet:
        if self._actors is None:
            connect(self._address)
            cap = cluster_cap()
            count = cap[0] if self._requested is None else workers_within(self._requested, cap)
            self._actors = ActorSet(_Worker, count, {"num_cpus": 1}, self._init, self.stall)
        return self._actors


class RayPending(Generic[R]):
    """The results of a `RayPool.map_async`, collected in item order by `result`; the same
    methods as `tools.execution.base.Pending`."""

    def __init__(self, pool: RayPool, fn: Callable[[Any], R], items: list[Any], what: str,
                 sent: Sent) -> None:
        self._pool, self._fn, self._items, self._what = pool, fn, items, what
        self._sent = sent
        self.retried = False
        """Whether an actor died or stalled and the items ran again."""

    def done(self) -> bool:
        """Whether every task has ended (so nothing of it still runs)."""
        refs = self._sent.refs
        if not refs:
            return True
        ready, _ = ray_module().wait(refs, num_returns=len(refs), timeout=0)
        return len(ready) == len(refs)

    def result(self) -> list[R]:
        """The results in item order; an actor death or a stall runs the items again on
        fresh actors, once (the first attempt is spent)."""
        actors = self._pool._pool()
        try:
            return [r for chunk in actors.collect(self._sent, what=self._what, last=False)
                    for r in chunk]
        except (*died_errors(ray_module()), Stalled):
            actors.close_if_current(self._sent.actors)
        self.retried = True
        return self._pool._map(self._fn, self._items, what=self._what, attempts=1)

    def wait(self) -> None:
        """Wait until nothing of it runs any more, whatever its outcome."""
        if self._sent.refs:
            self._pool._pool().settle(self._sent)
