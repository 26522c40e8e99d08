"""The person's answers to the reader's questions, kept with their words in spec.txt.

An answer is one line, `answer: 'some people wearing hats' = '30% of people wearing hats'`: the
phrase the question quoted and the words it stands for. Reading applies the answers before
anything else, so a re-plan of the same spec.txt (the parse node, `plan` again) reads the same.
"""

from __future__ import annotations

import re

from agent.language.spec import SpecError

_ANSWER = re.compile(r"^answer: '(?P<phrase>.+?)' = '(?P<words>.+)'\s*$", re.MULTILINE)


def answer_line(phrase: str, words: str) -> str:
    """The line spec.txt keeps for one answer."""
    return f"answer: '{phrase}' = '{words}'"


def answer(phrase: str, choice: str) -> str:
    """The answer line for a share question ('some people wearing hats', '30%'), from the
    terminal or the web review's form alike; a choice that is not a share is refused."""
    from agent.language.accounting import Unexplained

    choice = choice.strip()
    if not re.fullmatch(r"\d+(?:\.\d+)?%", choice):
        raise SpecError(f"answer '{phrase}' with a share, e.g. 30%")
    return answer_line(phrase, Unexplained(phrase, "").reading(choice))


def apply_answers(text: str) -> str:
    """The request with each answered phrase replaced by the words it stands for."""
    found = list(_ANSWER.finditer(text))
    if not found:
        return text
    body = _ANSWER.sub("", text).rstrip()
    for m in found:
        rx = re.compile(r"\s+".join(re.escape(w) for w in m["phrase"].split()), re.IGNORECASE)
        if not rx.search(body):
            raise SpecError(f"the answer for '{m['phrase']}' no longer matches the request")
        body = rx.sub(lambda _, w=m["words"]: w, body, count=1)
    return body + "\n"
