"""Run (or resume) a build's graph in one process: lock, recover, stream, stop cleanly.

Recovery on every start makes a killed build safe to run again: temp files of a write cut
short are removed, image files that no manifest row names (a batch killed before it was
committed) are removed and will be rendered again identically, and the duplicate store is
brought level with the manifest's accepted images.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from agent.context import BuildContext
from agent.graph import build_graph
from agent.lock import BuildLock
from agent.plan_io import plan_digest
from agent.revision import revise_started_build
from tools.atomic import remove_orphan_temps

THREAD_ID = "build"  # one build per directory
CONFIG = {"configurable": {"thread_id": THREAD_ID}, "recursion_limit": 10_000_000}

Outcome = Literal["done", "review", "stopped"]


@dataclass
class RunResult:
    outcome: Outcome
    review: dict[str, Any] = field(default_factory=dict)
    """The plan summary the review interrupt carries, when outcome is 'review'."""
    state: dict[str, Any] = field(default_factory=dict)


def recover(ctx: BuildContext) -> None:
    """Remove half-written and unrecorded files; resync the duplicate store."""
    paths = ctx.paths
    removed_temps = remove_orphan_temps(paths.root) if paths.root.exists() else 0
    removed_orphans = 0
    if paths.images.exists() and paths.manifest_db.exists():
        known = {(paths.root / p).resolve() for p in ctx.manifest.paths()}
        for image in paths.images.rglob("*"):
            if image.is_file() and image.resolve() not in known:
                image.unlink()
                removed_orphans += 1
    if paths.manifest_db.exists() and paths.spec_yaml.exists():
        accepted = ctx.manifest.accepted_embeddings()
        if accepted:
            ctx.store().add_many(list(accepted), list(accepted.values()))
        faces = ctx.manifest.accepted_embeddings("descriptor")
        if faces:
            who = ctx.manifest.get(faces)
            ctx.identity_store().add_many(
                list(faces), list(faces.values()), [{"identity": who[i].identity} for i in faces]
            )
    if removed_temps or removed_orphans:
        ctx.events.emit("recovered", temps=removed_temps, orphans=removed_orphans)


def run_graph(
    ctx: BuildContext,
    *,
    resume: dict[str, Any] | None = None,
    on_update: Callable[[dict[str, Any]], None] | None = None,
    stop_requested: Callable[[], bool] = lambda: False,
) -> RunResult:
    """Start, resume or continue the build until it ends, pauses for review, or is stopped.

    `resume` answers a pending review interrupt ({"action": "approve"} etc.). A stop request
    is honoured at the next batch boundary, after the batch is committed and checkpointed.
    """
    with BuildLock(ctx.paths.root):
        recover(ctx)
        conn = sqlite3.connect(ctx.paths.state_db, check_same_thread=False)
        try:
            graph = build_graph(SqliteSaver(conn))
            snapshot = graph.get_state(CONFIG)
            if snapshot.values.get("approved"):
                update = revise_started_build(
                    ctx, dict(snapshot.values), plan_digest(ctx.paths.root)
                )
                if update is not None:  # a revised plan: continue from `assess`
                    graph.update_state(CONFIG, update, as_node="dedup")
                    snapshot = graph.get_state(CONFIG)
            if not snapshot.values and not snapshot.next:
                start: Any = {}
            elif _pending_interrupt(snapshot) is not None:
                start = Command(resume=resume or {"action": "recheck"})
            elif not snapshot.next and not snapshot.tasks:
                return RunResult("done", state=dict(snapshot.values))
            else:
                # continue from the last checkpoint. No `next` but a task: a node finished
                # and its writes were saved, but the process died before the step's own
                # checkpoint; streaming applies those writes and goes on (a SIGKILL there
                # made the next run call an unfinished build done)
                start = None
            timing: Counter[str] = Counter()
            last = time.perf_counter()
            try:
                for update in graph.stream(start, CONFIG, context=ctx, stream_mode="updates"):
                    now = time.perf_counter()
                    for node in update:
                        timing[node] += now - last
                    last = now
                    if "__interrupt__" in update:
                        return RunResult(
                            "review",
                            review=update["__interrupt__"][0].value,
                            state=dict(graph.get_state(CONFIG).values),
                        )
                    if on_update:
                        on_update(update)
                    if "assess" in update and stop_requested():
                        ctx.events.emit("stopped", reason="interrupted by the user")
                        return RunResult("stopped", state=dict(graph.get_state(CONFIG).values))
                return RunResult("done", state=dict(graph.get_state(CONFIG).values))
            finally:
                stages = {k: round(v, 3) for k, v in timing.items() if k != "__interrupt__"}
                if stages:
                    ctx.events.emit("timing", stages=stages)
        finally:
            conn.close()


def graph_state(ctx: BuildContext) -> dict[str, Any]:
    """The last checkpointed state (read-only; needs no lock)."""
    if not ctx.paths.state_db.exists():
        return {}
    conn = sqlite3.connect(ctx.paths.state_db, check_same_thread=False)
    try:
        return dict(build_graph(SqliteSaver(conn)).get_state(CONFIG).values)
    finally:
        conn.close()


def _pending_interrupt(snapshot: Any) -> Any:
    for task in snapshot.tasks:
        for intr in task.interrupts:
            return intr.value
    return None
