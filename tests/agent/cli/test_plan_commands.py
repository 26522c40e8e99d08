"""`facetory plan / review / approve`: files written, tables and JSON printed, and bad input
answered with exit code 2, one line, and nothing written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.app import app

ROOT = Path(__file__).resolve().parents[3]
QUICKSTART = str(ROOT / "specs" / "quickstart.txt")
runner = CliRunner()


def facetory(*args: str):
    return runner.invoke(app, list(args))


def test_plan_writes_the_build_files_and_a_json_summary(tmp_path):
    out = tmp_path / "quick"
    result = facetory("plan", QUICKSTART, "--out", str(out), "--offline", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["total"] == 300
    assert summary["classes"] == {"none": 100, "glasses": 100, "sunglasses": 100}
    assert summary["per_class"]["glasses"]["gender"] == {"female": 50, "male": 50}
    assert summary["balance"]["pairwise"] <= 1
    assert (out / "spec.txt").read_text() == Path(QUICKSTART).read_text()
    assert {p.name for p in out.iterdir()} >= {"spec.txt", "spec.yaml", "plan.yaml"}


def test_plan_prints_tables_per_class_and_level(tmp_path):
    result = facetory("plan", "60 faces balanced across gender and head pose", "-o",
                      str(tmp_path / "b"), "--offline")  # fmt: skip
    assert result.exit_code == 0, result.output
    for word in ("head_pose", "frontal", "female", "target", "balance:"):
        assert word in result.stdout


def test_the_same_seed_gives_the_same_plan_and_seed_overrides_it(tmp_path):
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        args = ["plan", "40 faces balanced across skin tone", "-o", str(tmp_path / name)]
        assert facetory(*args, "--offline", "--seed", seed).exit_code == 0
    plan = {n: (tmp_path / n / "plan.yaml").read_bytes() for n in "abc"}
    assert plan["a"] == plan["b"] != plan["c"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "description is empty"),
        ("300 faces, 60% wear glasses and 50% wear sunglasses", "over 100%"),
        ("0 faces", "at least 1"),
        ("20,000,000 faces", "over the limit of 10,000,000"),
        ("300 faces, segment the hair", "unknown task"),
        ("300 faces with purple unicorns", "'purple unicorns'"),
        ("sexy kids, 300 faces", "refused"),
        ("specs/does_not_exist.txt", "no such file"),
        ("classes: [{name: plain, quota: 5}]\ntraining: {augment: {collage_classes: [glases]}}",
         "collage_classes names glases, not a class of the spec (plain)"),
        (
            "100 faces, 80% eyes closed, 50% wear sunglasses, no sunglasses with eyes closed",
            "constraint 'when eyes=closed, not eyewear=sunglasses'",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, source, message):
    out = tmp_path / "never"
    result = facetory("plan", source, "--out", str(out), "--offline")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert not out.exists()


def test_class_names_with_path_characters_stay_labels_and_ids_stay_safe(tmp_path):
    out = tmp_path / "b"
    result = facetory("plan", "30 faces in classes: ../../etc, a/b, [x]", "-o", str(out),
                      "--offline", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)["classes"]) == ["../../etc", "a/b", "[x]"]
    text = (out / "plan.yaml").read_text()
    assert '- {id: etc-000001, class: "../../etc"' in text and "id: x-000001" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_review_and_approve(tmp_path):
    out = tmp_path / "b"
    assert (
        facetory("plan", "40 faces balanced across gender", "-o", str(out), "--offline").exit_code
        == 0
    )
    result = facetory("review", str(out))
    assert result.exit_code == 0 and "unchanged" in result.stdout
    plan_yaml = out / "plan.yaml"
    plan_yaml.write_text(plan_yaml.read_text().replace("gender: female", "gender: femal", 1))
    result = facetory("review", str(out))
    assert result.exit_code == 2
    assert "line " in result.stderr and "gender=femal is not a level of gender" in result.stderr
    fixed = re.sub(r"gender: femal\b", "gender: female", plan_yaml.read_text())
    plan_yaml.write_text(fixed.replace("  quota: 40\n", "  quota: 50\n", 1))
    result = facetory("review", str(out), "--json")
    assert result.exit_code == 0
    review = json.loads(result.stdout)
    assert review["kind"] == "spec" and review["summary"]["total"] == 50
    result = facetory("approve", str(out))
    assert result.exit_code == 0 and "approved 50 items" in result.stdout
    assert json.loads((out / "approval.json").read_text())["approved"] is True


def test_plan_refuses_a_directory_whose_build_has_started(tmp_path):
    (tmp_path / "manifest.sqlite").write_bytes(b"")
    result = facetory("plan", "10 faces", "-o", str(tmp_path), "--offline")
    assert result.exit_code == 2 and "already holds a build" in result.stderr
    assert not (tmp_path / "plan.yaml").exists()


def test_the_console_script_exits_2_with_one_line(tmp_path):
    exe = Path(sys.executable).with_name("facetory")
    done = subprocess.run(
        [str(exe), "plan", "", "--out", str(tmp_path / "x"), "--offline"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: the description is empty: say what faces you want, e.g. '300 faces'"
    ]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(("args", "start", "end"), [
    (["build", "x", "-o", "OUT", "--seed", "-1"],
     "error: Invalid value for '--seed': -1 is not in the range x>=0", "(facetory build --help)"),
    (["plan", "12 faces", "-o", "OUT", "--colour"],
     "error: No such option: --colour", "(facetory plan --help)"),
    (["run"], "error: Missing argument 'DIR'", "(facetory run --help)"),
    (["bild"], "error: No such command 'bild'. Did you mean 'build'?", "(facetory --help)"),
])
def test_a_usage_error_is_one_line_naming_the_help_to_read(tmp_path, args, start, end):
    exe = Path(sys.executable).with_name("facetory")
    args = [str(tmp_path / "x") if a == "OUT" else a for a in args]
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(start) and line.endswith(end), line
    assert not (tmp_path / "x").exists()


def _planned(tmp_path: Path) -> Path:
    out = tmp_path / "b"
    assert facetory("plan", "12 faces", "-o", str(out), "--offline").exit_code == 0
    return out


def test_a_plan_yaml_that_is_not_utf8_is_one_line_for_every_command(tmp_path):
    out = _planned(tmp_path)
    with (out / "plan.yaml").open("ab") as handle:
        handle.write(b"# caf\xe9 saved as latin-1\n")
    for command in (["review"], ["approve"], ["status"], ["run", "--yes", "--offline"]):
        result = subprocess.run([sys.executable, "-m", "agent", *command, str(out)],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.count("\n") == 1 and "is not UTF-8 text" in result.stderr


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("seed: 100000000000000000000,", "seed: Input should be less than or equal to"),
        ("seed: 7, guidance_scale: .nan,", "guidance_scale: Input should be a finite number"),
        ("seed: 7, guidance_scale: -3,", "guidance_scale: Input should be greater than or equal"),
    ],
)
def test_an_item_value_no_generator_can_take_is_refused_at_review(tmp_path, edit, message):
    out = _planned(tmp_path)
    text = (out / "plan.yaml").read_text()
    edited = re.sub(r"seed: \d+,", edit, text, count=1)
    (out / "plan.yaml").write_text(edited)
    for command in ("review", "approve"):
        result = facetory(command, str(out))
        assert result.exit_code == 2 and message in result.stderr
        assert "items[0]" in result.stderr and "Traceback" not in result.output
    assert (out / "plan.yaml").read_text() == edited  # nothing rewritten


def test_plan_refuses_a_folder_of_other_files_and_leaves_it_as_it_was(tmp_path):
    theirs = tmp_path / "photos"
    (theirs / "dataset").mkdir(parents=True)
    (theirs / "dataset" / "mine.jpg").write_bytes(b"a photo")
    (theirs / "report.html").write_text("my report")
    result = facetory("plan", "12 faces", "-o", str(theirs), "--offline")
    assert result.exit_code == 2 and "is not empty and is not a facetory build" in result.stderr
    assert sorted(p.name for p in theirs.rglob("*")) == ["dataset", "mine.jpg", "report.html"]
    assert (theirs / "report.html").read_text() == "my report"


def test_plan_writes_into_an_empty_folder_or_replans_its_own_unstarted_build(
        tmp_path, monkeypatch):
    import agent.planning.plan_file

    monkeypatch.setattr(agent.planning.plan_file, "INLINE_MAX", 5)  # these plans keep an item store
    empty = tmp_path / "empty"
    empty.mkdir()
    assert facetory("plan", "12 faces", "-o", str(empty), "--offline").exit_code == 0
    assert facetory("plan", "14 faces", "-o", str(empty), "--offline").exit_code == 0
    assert "14 images" in (empty / "plan.yaml").read_text()
    assert not [p for p in empty.iterdir() if ".plan-" in p.name]  # no staging left
    (store,) = empty.glob("plan_items-*.bin")  # the 12-image plan's store is gone
    assert f"items_file: {store.name}" in (empty / "plan.yaml").read_text()


@pytest.mark.parametrize(
    ("where", "message"),
    [("file", "is a file, not a directory"), ("file/below", "is a file, not a directory"),
     ("/proc/facetory-nowhere/b", "/proc/facetory-nowhere")],
)
def test_an_out_that_is_a_file_under_a_file_or_unwritable_is_one_line(tmp_path, where, message):
    (tmp_path / "file").write_text("x")
    out = Path(where) if where.startswith("/") else tmp_path / where
    for command in (["plan", "12 faces", "-o", str(out)],
                    ["build", "12 faces", "-o", str(out), "--yes", "--no-train"]):
        done = subprocess.run([sys.executable, "-m", "agent", *command, "--offline"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert message in done.stderr


def test_a_full_disk_while_planning_is_one_line_and_leaves_no_half_made_build(
        tmp_path, monkeypatch, capsys):
    import errno

    import tools.atomic
    from agent.cli.app import main

    real = tools.atomic.atomic_open
    written = []

    def filling(path, mode="wb"):
        written.append(Path(path).name)
        if Path(path).name == "plan.yaml":  # spec.txt and spec.yaml fitted, the plan did not
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, mode)

    monkeypatch.setattr(tools.atomic, "atomic_open", filling)
    out = tmp_path / "b"
    monkeypatch.setattr(sys, "argv", ["facetory", "plan", "12 faces", "-o", str(out),
                                      "--offline"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2 and written[-1] == "plan.yaml"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no space left on the device" in err
    assert not out.exists() and not list(tmp_path.iterdir())


YAML_SPEC = """name: yaml built
classes:
  - {name: glasses, quota: 6, attributes: {eyewear: glasses}}
  - {name: none, quota: 6, attributes: {eyewear: none}}
factors:
  - name: gender
    balanced: true
    levels: [{name: female}, {name: male}]
seed: 3
image_size: 96
"""


def test_offline_feedback_on_a_plan_from_a_yaml_spec_changes_the_fields_it_names(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(YAML_SPEC)
    out = tmp_path / "b"
    assert facetory("plan", str(spec), "--out", str(out), "--offline").exit_code == 0
    result = facetory("review", str(out), "--offline", "--feedback", "seed: 11")
    assert result.exit_code == 0, result.output
    assert "seed: 11" in (out / "spec.yaml").read_text()
    words = facetory("review", str(out), "--offline", "--feedback", "make it 20 faces")
    assert words.exit_code == 2
    line = words.output.strip()
    assert "\n" not in line and "YAML" in line and "not valid YAML" not in line
    assert "seed: 11" in (out / "spec.yaml").read_text()


def test_a_stray_invalid_byte_in_spec_txt_or_events_jsonl_is_no_traceback(tmp_path):
    out = tmp_path / "b"
    assert facetory("plan", "12 faces, half with glasses", "--out", str(out),
                    "--offline").exit_code == 0
    (out / "spec.txt").write_bytes((out / "spec.txt").read_bytes() + b"caf\xe9\n")
    with (out / "events.jsonl").open("ab") as handle:
        handle.write(b'{"t": 1, "event": "note", "text": "caf\xe9"}\n')
    for args in (("status", str(out)), ("review", str(out), "--offline", "--feedback",
                                         "make it 16 faces")):
        result = facetory(*args)
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        assert "UnicodeDecodeError" not in result.output, args


@pytest.mark.parametrize("command", ["plan", "build"])
@pytest.mark.parametrize("seed", ["-1", str(2**63)])
def test_a_seed_out_of_range_is_refused_and_nothing_is_written(tmp_path, command, seed):
    out = tmp_path / "new"
    result = facetory(command, QUICKSTART, "--out", str(out), "--offline", "--seed", seed,
                      *(["--yes", "--no-train"] if command == "build" else []))
    assert result.exit_code == 2, result.output
    assert "seed" in result.output and "Traceback" not in result.output
    assert not out.exists()  # a later `build --out` there starts afresh


def test_two_plans_into_the_same_new_folder_at_once_leave_one_whole_build(tmp_path):
    """The loser of the race says one line and exits 2; the winner's build stays whole."""
    command = [sys.executable, "-m", "agent", "plan", QUICKSTART, "--offline", "--seed"]
    for round_ in range(3):
        out = tmp_path / f"race{round_}"
        runs = [subprocess.Popen([*command, str(seed), "--out", str(out)], text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for seed in (1, 2)]
        ended = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
        assert {code for code, _ in ended} <= {0, 2} and 0 in [code for code, _ in ended]
        for code, err in ended:
            if code == 2:
                assert err.count("\n") == 1 and "is being built by pid" in err, err
        assert {"spec.txt", "spec.yaml", "plan.yaml"} <= {p.name for p in out.iterdir()}
        spec_seed = re.search(r"^seed: (\d+)$", (out / "spec.yaml").read_text(), re.M)
        plan_seed = re.search(r"^  seed: (\d+)$", (out / "plan.yaml").read_text(), re.M)
        assert spec_seed and plan_seed and spec_seed.group(1) == plan_seed.group(1)
        review = subprocess.run([sys.executable, "-m", "agent", "review", str(out)],
                                capture_output=True, text=True, timeout=300)
        assert review.returncode == 0, review.stderr
