"""The web review asks the question the reading of feedback leaves, as the terminal does: a form
with the candidate readings, whose answer joins the feedback as an answer line."""

from __future__ import annotations

from pathlib import Path

from agent.language.accounting import Question, Unexplained
from agent.language.answers import answer
from agent.language.parse import parse_spec
from tools.errors import FacetoryError


def open_question(root: Path, feedback: str) -> list[Unexplained]:
    """The first question with candidates that the request plus `feedback` leaves, if any."""
    text = (root / "spec.txt").read_text(encoding="utf-8")
    try:
        parse_spec(f"{text.rstrip()}\n{feedback}", offline=True)
    except Question as question:
        return [u for u in question.items if u.askable][:1]
    except FacetoryError:
        return []
    return []


def answered(form: dict[str, str]) -> str:
    """The feedback of the form, with the answer it gives (if any) as an answer line."""
    feedback = form.get("feedback", "")
    phrase = form.get("phrase", "").strip()
    if not phrase:
        return feedback
    choice = form.get("other", "").strip() or form.get("answer", "")
    return f"{feedback.rstrip()}\n{answer(phrase, choice)}"
