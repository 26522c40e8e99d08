"""The build's state stays small: the batch result that goes from generate to critique and
dedup is never written into a checkpoint."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

from agent.runtime.runner import CONFIG, run_graph
from tests.agent.runtime.test_graph import context, make_build


def test_the_batch_result_never_reaches_a_checkpoint(tmp_path: Path) -> None:
    paths = make_build(tmp_path / "b", quota=4, batch=4)
    ctx = context(paths)
    run_graph(ctx)  # to the review pause
    assert run_graph(ctx, resume={"action": "approve"}).outcome == "done"

    with sqlite3.connect(paths.state_db) as conn:
        saver = SqliteSaver(conn)
        checkpoints = list(saver.list(CONFIG))
        writes = conn.execute("SELECT channel FROM writes").fetchall()
    assert len(checkpoints) > 10  # several batches went through generate, critique, dedup
    assert any("batch" in c.checkpoint["channel_values"] for c in checkpoints)
    assert ("batch",) in writes
    assert not [c for c in checkpoints if "batch_result" in c.checkpoint["channel_values"]]
    assert ("batch_result",) not in writes
