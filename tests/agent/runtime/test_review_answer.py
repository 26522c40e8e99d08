"""One way to answer a plan's review pause (`agent.runtime.review_answer.answer_review`): every
command and every form of the web review goes through it, so they cannot disagree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

import agent.runtime.review_answer as review_answer
from agent.cli.app import app
from agent.planning.approval import is_approved
from agent.planning.plan_file import read_spec, write_spec
from agent.web.app import create_app
from tests.agent.web.builds import planned

TOKEN = "t0ken"
runner = CliRunner()


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The actions given to `answer_review`, in order (it still does its work)."""
    seen: list[str | None] = []
    real = review_answer.answer_review

    def recording(ctx: Any, answer: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        seen.append((answer or {}).get("action"))
        return real(ctx, answer, **kwargs)

    monkeypatch.setattr(review_answer, "answer_review", recording)
    return seen


def facetory(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def web(root: Path) -> TestClient:
    return TestClient(create_app(root, token=TOKEN), base_url="http://127.0.0.1:8000")


def post(c: TestClient, url: str, data: dict[str, str]) -> Any:
    response = c.post(url, data={"token": TOKEN, **data}, follow_redirects=True)
    assert response.status_code == 200, response.text
    return response


def test_plan_review_feedback_and_approve_on_the_command_line_answer_through_one_function(
    tmp_path: Path, answers: list[str | None]
) -> None:
    out = str(tmp_path / "b")
    facetory("plan", "12 faces, half of them smiling", "--out", out, "--offline")
    spec = read_spec(Path(out) / "spec.yaml")  # the person edits a quota by hand
    bigger = spec.classes[0].model_copy(update={"quota": spec.classes[0].quota + 2})
    write_spec(spec.model_copy(update={"classes": [bigger, *spec.classes[1:]]}),
               Path(out) / "spec.yaml")
    facetory("review", out, "--offline")
    facetory("review", out, "--feedback", "also 30% wear hats", "--offline")
    facetory("approve", out)
    assert answers == [None, "edit", "feedback", "approve"]
    assert is_approved(out)


def test_every_form_of_the_web_review_answers_through_the_same_function(
    tmp_path: Path, answers: list[str | None]
) -> None:
    root = planned(tmp_path / "b")
    c = web(root)
    post(c, "/review/edit", {"quota:none": "8"})
    post(c, "/review/feedback", {"feedback": "also 30% wear hats"})
    post(c, "/review/approve", {})
    assert answers == ["edit", "feedback", "approve"]
    assert is_approved(root)


def test_feedback_from_the_command_line_and_from_the_web_revise_the_plan_byte_for_byte_alike(
    tmp_path: Path,
) -> None:
    by_cli, by_web = planned(tmp_path / "cli"), planned(tmp_path / "web")
    facetory("review", str(by_cli), "--feedback", "also 30% wear hats", "--offline")
    post(web(by_web), "/review/feedback", {"feedback": "also 30% wear hats"})
    for name in ("spec.txt", "spec.yaml", "plan.yaml"):
        assert (by_cli / name).read_bytes() == (by_web / name).read_bytes(), name
    assert "hat" in (by_cli / "plan.yaml").read_text()


def test_an_approval_answer_names_a_build_without_a_plan_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["approve", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "has no plan.yaml" in result.output
    assert not (tmp_path / "none").exists()


def test_the_graph_parse_node_reads_the_words_of_a_new_plan_with_its_seed_and_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent.runtime.nodes.parse as parse_node

    read: list[str] = []
    real = parse_node.parse_spec

    def parse_spec(text: str, **kwargs: Any) -> Any:
        read.append(text)
        return real(text, **kwargs)

    monkeypatch.setattr(parse_node, "parse_spec", parse_spec)
    out = tmp_path / "b"
    facetory("plan", "12 faces", "--out", str(out), "--offline", "--seed", "7",
             "--epochs", "3")
    assert read == ["12 faces"]
    spec = read_spec(out / "spec.yaml")
    assert (spec.seed, spec.training.epochs) == (7, 3)
    events = (out / "events.jsonl").read_text()
    assert events.count('"event": "parsed"') == events.count('"event": "planned"') == 1
