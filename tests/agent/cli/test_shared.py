"""What the commands share: how many worker processes a build gets by default, and the
options' help as a user reads it."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from agent.cli.app import app
from agent.cli.shared import IMAGES_PER_WORKER, default_workers


def test_a_small_build_is_judged_in_one_process() -> None:
    assert default_workers(IMAGES_PER_WORKER - 1) == 1
    assert default_workers(0) == 1


def test_a_large_build_gets_one_worker_per_core_it_may_use() -> None:
    cores = len(os.sched_getaffinity(0))
    assert default_workers(1_000_000) == cores
    assert default_workers(IMAGES_PER_WORKER * cores) == cores


@pytest.mark.parametrize("command", ["run", "build"])
def test_the_help_names_the_ray_extra_to_install(command: str) -> None:
    # typer renders help as Rich markup, where an unescaped "[ray]" is a tag and vanished
    shown = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "300"}).output
    assert "pip install 'facetory[ray]'" in " ".join(shown.split())


def test_no_command_gets_more_local_workers_than_the_machine_holds(capsys) -> None:
    from types import SimpleNamespace

    from agent.cli.shared import set_parallelism
    from agent.runtime.context import Options
    from tools.execution.base import worker_cap

    cap, why = worker_cap()
    ctx = SimpleNamespace(options=Options(), spec=SimpleNamespace(total=10**6))
    set_parallelism(ctx, workers=999, executor="local", address=None)
    assert ctx.options.workers == cap <= len(os.sched_getaffinity(0))
    err = capsys.readouterr().err  # the free memory it names moves from call to call
    assert err.startswith(f"--workers 999 is more than this machine holds ({why.split(',')[0]}")
    assert err.endswith(f"): using {cap}\n") and err.count("\n") == 1
    set_parallelism(ctx, workers=None, executor="local", address=None)  # the default
    assert ctx.options.workers == cap and capsys.readouterr().err == ""


def test_no_command_gets_more_ray_actors_than_the_cluster_holds(capsys, monkeypatch) -> None:
    from types import SimpleNamespace

    import tools.execution.ray_actors as ray_actors
    from agent.cli.shared import set_parallelism
    from agent.runtime.context import Options

    why = "2 cores, 15.1 GB available at 256 MB a worker"
    monkeypatch.setattr(ray_actors, "cluster_cap", lambda: (2, why))  # as a 2-CPU cluster
    ctx = SimpleNamespace(options=Options(), spec=SimpleNamespace(total=10**6))
    set_parallelism(ctx, workers=999, executor="ray", address=None)
    assert ctx.options.workers == 2
    assert capsys.readouterr().err == (
        f"--workers 999 is more than the Ray cluster holds ({why}): using 2\n")
    set_parallelism(ctx, workers=None, executor="ray", address=None)  # one actor a CPU
    assert ctx.options.workers == 2 and capsys.readouterr().err == ""
