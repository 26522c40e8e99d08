"""`facetory build --executor ray` as a user runs it: on a Ray started on this machine, or on a
cluster (`ray start --head`, started once for this module, on the CPU) joined with
`--address`. The dataset is the bytes the local executor makes, also after the driver is
killed and the build resumed; without Ray, or with nothing at the address, it is one line,
exit 2, and nothing written."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.runtime.test_durability import assert_clean, eyewear_spec, fingerprint

SPEC = eyewear_spec("on-ray", quota=12, batch_size=4, seed=7)
FACETORY = [sys.executable, "-m", "agent"]
#: Seconds after which a wait counts as a hang: generous, since a busy machine is slow, not stuck.
HANG = 600
#: No RAY_AUTH_MODE: `ray start` turns token authentication on, and facetory sends the token
#: `ray start` left in ~/.ray/auth_token by itself.
ENV = {**{k: v for k, v in os.environ.items() if k != "RAY_AUTH_MODE"}, "PYTHONUNBUFFERED": "1"}


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A Ray head on this machine with 2 CPUs and 1 GPU, as `ray start --head` starts one; its
    address. The GPU is Ray's resource only (CI has none): an actor that takes it draws on
    the CPU, as its spec asks."""
    port = free_port()
    scratch = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths are long
    head = subprocess.Popen(
        [str(Path(sys.executable).parent / "ray"), "start", "--head", f"--port={port}",
         "--num-cpus=2", "--num-gpus=1", "--include-dashboard=false", "--disable-usage-stats",
         "--block", f"--temp-dir={scratch}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + HANG
        while not listening(port):
            assert head.poll() is None, "ray start --head failed"
            assert time.monotonic() < deadline, f"ray start --head did not listen in {HANG} s"
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        head.terminate()  # `ray start --block` stops what it started, then ends
        head.wait(timeout=HANG)
        gone = subprocess.run(["pgrep", "-f", scratch], capture_output=True, text=True)
        assert gone.stdout == "", f"processes of the test's Ray left running: {gone.stdout}"
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "spec.yaml"
    path.write_text(SPEC)
    return path


@pytest.fixture(scope="module")
def reference(spec: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The dataset the local executor makes, in one process."""
    out = tmp_path_factory.mktemp("local") / "build"
    done = facetory("build", str(spec), "--out", str(out), "--workers", "1")
    assert done.returncode == 0, done.stderr
    return fingerprint(out)


def facetory(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*FACETORY, *args, "--yes", "--no-train", "--offline"],
                          capture_output=True, text=True, timeout=HANG, env=ENV)


def executors(out: Path) -> list[tuple[str, int]]:
    """(executor, workers) of every worker pool the build started, from its events."""
    lines = (out / "events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    return [(e["executor"], e["workers"]) for e in events if e["event"] == "workers"]


@pytest.mark.slow
def test_a_build_on_a_ray_started_here_makes_the_bytes_the_local_executor_makes(
    spec: Path, reference: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "build"
    done = facetory("build", str(spec), "--out", str(out), "--executor", "ray")
    assert done.returncode == 0, done.stderr
    assert "(raylet)" not in done.stderr + done.stdout  # Ray's logs stay out of the terminal
    assert set(executors(out)) == {("ray", len(os.sched_getaffinity(0)))}  # an actor per core
    assert_clean(out)
    assert fingerprint(out) == reference
    assert "executor" not in (out / "spec.yaml").read_text()  # a per-run choice: not recorded


def killed_after_a_batch(spec: Path, out: Path, *executor: str) -> None:
    """Start a build, SIGKILL it once it has recorded one more batch."""
    events = out / "events.jsonl"
    batches = events.read_text().count('"event": "batch"') if events.exists() else 0
    driver = subprocess.Popen(
        [*FACETORY, "build", str(spec), "--out", str(out), "--yes", "--no-train", "--offline",
         *executor], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV,
    )
    deadline = time.monotonic() + HANG
    while not (events.exists() and events.read_text().count('"event": "batch"') > batches):
        assert driver.poll() is None, driver.stderr.read() if driver.stderr else ""
        assert time.monotonic() < deadline, f"the build recorded no batch in {HANG} s"
        time.sleep(0.1)
    driver.send_signal(signal.SIGKILL)
    assert driver.wait(timeout=HANG) == -signal.SIGKILL, "the build ended before the kill"


@pytest.mark.slow
def test_a_driver_killed_mid_build_on_a_cluster_resumes_to_the_same_bytes(
    cluster: str, spec: Path, reference: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "build"
    on_cluster = ("--executor", "ray", "--address", cluster)
    killed_after_a_batch(spec, out, *on_cluster)
    assert set(executors(out)) == {("ray", 2)}  # one critic actor per CPU of the cluster
    killed_after_a_batch(spec, out, "--workers", "2")  # a resume may use another executor

    done = facetory("build", str(spec), "--out", str(out), *on_cluster)
    assert done.returncode == 0, done.stderr
    assert_clean(out)
    assert fingerprint(out) == reference


def test_executor_ray_without_ray_installed_is_one_line_and_writes_nothing(
    spec: Path, tmp_path: Path
) -> None:
    out = tmp_path / "build"
    without_ray = (
        "import sys; sys.modules['ray'] = None; from agent.__main__ import main; "
        f"sys.argv = ['facetory', 'build', {str(spec)!r}, '--out', {str(out)!r}, '--yes', "
        "'--offline', '--executor', 'ray']; main()"
    )
    done = subprocess.run([sys.executable, "-c", without_ray], capture_output=True, text=True,
                          timeout=120, env=ENV)
    assert done.returncode == 2
    assert "pip install 'facetory[ray]'" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_an_address_nothing_answers_at_is_one_line_and_writes_nothing(
    spec: Path, tmp_path: Path
) -> None:
    out = tmp_path / "build"
    address = f"127.0.0.1:{free_port()}"
    done = facetory("build", str(spec), "--out", str(out), "--executor", "ray",
                    "--address", address)
    assert done.returncode == 2
    assert f"nothing answers at {address}" in done.stderr and "ray start --head" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_a_spec_that_asks_for_ray_runs_on_ray_unless_the_run_says_local(
    tmp_path: Path
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC + "executor: ray\n")
    out = tmp_path / "build"
    address = f"127.0.0.1:{free_port()}"  # nothing there: the spec's executor was read
    refused = facetory("build", str(spec), "--out", str(out), "--address", address)
    assert refused.returncode == 2 and "nothing answers" in refused.stderr
    assert not out.exists()
    mixed = facetory("build", str(spec), "--out", str(out), "--executor", "local",
                     "--address", address)
    assert mixed.returncode == 2 and "--address names a Ray cluster" in mixed.stderr


def test_an_unknown_executor_is_one_line_naming_the_known_ones(
    spec: Path, tmp_path: Path
) -> None:
    done = facetory("build", str(spec), "--out", str(tmp_path / "build"), "--executor", "spark")
    assert done.returncode == 2
    assert "--executor must be one of local, ray" in done.stderr
    assert not (tmp_path / "build").exists()


@pytest.mark.slow
def test_a_diffusion_build_on_a_cluster_draws_on_a_generator_actor_per_gpu(
    cluster: str, tmp_path: Path
) -> None:
    from tests.tools.tiny_sd import tiny_sd_once

    model = tiny_sd_once(tmp_path)
    spec = tmp_path / "diffusion.yaml"
    spec.write_text(
        "name: drawn\nclasses: [{name: face, quota: 4}]\n"
        "budget: {batch_size: 4, max_attempts_factor: 1}\n"
        f"generation: {{backend: diffusers, diffusers: {{model: '{model}', steps: 2, "
        "device: cpu, batch_size: 2}}\nimage_size: 64\nseed: 1\n"
    )
    out = tmp_path / "build"
    done = facetory("build", str(spec), "--out", str(out), "--executor", "ray",
                    "--address", cluster)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert [e["gpus"] for e in events if e["event"] == "generator_actors"] == [1]
    assert len(list((out / "images").rglob("*.png"))) == 4  # drawn there, written here
    assert_clean(out)


@pytest.mark.slow
def test_a_second_ctrl_c_on_a_ray_started_here_leaves_none_of_its_processes_running(
    tmp_path: Path
) -> None:
    import psutil

    spec = tmp_path / "spec.yaml"
    spec.write_text(eyewear_spec("long", quota=400, batch_size=4, seed=7))
    driver = subprocess.Popen(
        [*FACETORY, "build", str(spec), "--out", str(tmp_path / "build"), "--yes",
         "--no-train", "--offline", "--executor", "ray"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV,
    )
    events, deadline = tmp_path / "build" / "events.jsonl", time.monotonic() + HANG
    while not (events.exists() and '"event": "batch"' in events.read_text()):
        assert driver.poll() is None and time.monotonic() < deadline, "no batch recorded"
        time.sleep(0.1)
    started = psutil.Process(driver.pid).children(recursive=True)  # Ray's and its actors
    assert any("raylet" in p.name() for p in started)
    driver.send_signal(signal.SIGINT)
    assert driver.stderr is not None and "stopping after" in driver.stderr.readline()
    driver.send_signal(signal.SIGINT)
    assert driver.wait(timeout=60) == 130
    _, alive = psutil.wait_procs(started, timeout=10)  # Ray's agents outlived the driver by ~1 min
    alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"left running: {[p.name() for p in alive]}"
