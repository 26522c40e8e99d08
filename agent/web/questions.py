"""The web review asks the question the reading of feedback leaves (offline or LLM, the one
`Question` the graph's review node kept), as the terminal does: a form with the candidate
readings, whose answer joins the feedback as an answer line."""

from __future__ import annotations

from agent.language.accounting import Question, Unexplained
from agent.language.answers import answer


def asked(error: Exception) -> list[Unexplained]:
    """The first question with candidates that a failed feedback leaves, if any."""
    if isinstance(error, Question):
        return [u for u in error.items if u.askable][:1]
    return []


def answered(form: dict[str, str]) -> str:
    """The feedback of the form, with the answer it gives (if any) as an answer line."""
    feedback = form.get("feedback", "")
    phrase = form.get("phrase", "").strip()
    if not phrase:
        return feedback
    choice = form.get("other", "").strip() or form.get("answer", "")
    return f"{feedback.rstrip()}\n{answer(phrase, choice)}"
