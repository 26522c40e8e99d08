"""The safety check every prompt passes before it reaches a generator.

facetory refuses images that sexualise minors or depict harm to them (injury, blood, violence,
weapons, abuse, captivity, distress, neglect, death, self-harm). A request is checked when it is
parsed, but words reach a generator from many writers after that: the prompt template, a hand
edit of plan.yaml, a class description, LLM enrichment, LLM retry wording, feedback, an
augmentation prompt. So the same rules run again on every prompt and negative prompt where
they all pass, just before a generator is called, and when a plan is reviewed and approved.

The rules: some terms are refused whatever the context; sexual and harm terms are refused
when minors are in the picture (minor words or ages under 18 in the prompt, a child or
teenager age group in the item's attributes, or a negative prompt that asks the generator to
avoid adults). A negative prompt lists what must not appear, so its harm words are fine
("nsfw, nudity, blood" in a negative prompt is protective); asking it to avoid clothing is not.
A term directly negated ("no blood", "without any bruises", "no nudity or violence") does not
count. Words an LLM suggests are held to the stricter rule: no sexual or harm term at all,
whoever is depicted, since they are appended to whole cells of prompts unseen.

The word lists are data: `tools/vocabulary/safety.yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import yaml

from tools.errors import FacetoryError

VOCABULARY = Path(__file__).with_name("vocabulary") / "safety.yaml"
REFUSAL = "facetory does not plan images that sexualise minors or depict harm to them"


class UnsafePrompt(FacetoryError):
    """A prompt facetory will not send to a generator (one line, exit code 2)."""


class _Prompted(Protocol):
    id: str
    prompt: str
    negative_prompt: str
    attributes: dict[str, str]


def _words(terms: Iterable[str]) -> re.Pattern[str]:
    """Whole-word alternation, longest first; a hyphen joins words (see safety.yaml)."""
    terms = list(terms)
    odd = [t for t in terms if not isinstance(t, str) or t != t.lower()]
    if odd:  # YAML reads `no` as false and `a: b` as a mapping: quote such entries
        raise ValueError(f"{VOCABULARY}: every term must be a lower-case string, got {odd[0]!r}")
    # Matched case-sensitively against lower-cased text, with branches grouped by their first
    # letter: Python's re tries alternatives one by one, and IGNORECASE makes each try slow.
    # On a 200-character template prompt the harm list took 217 us with IGNORECASE and 17 us
    # this way; `bench/bench_safety.py` prints what a whole check costs.
    groups: dict[str, list[str]] = {}
    rest: list[str] = []
    for term in terms:
        head = term[:1].lower()
        if head.isalpha() and term[1:2] not in ("?", "*", "+", "{"):
            groups.setdefault(head, []).append(term[1:])
        else:
            rest.append(term)
    branches = [
        f"{head}(?:{'|'.join(sorted(tails, key=len, reverse=True))})"
        for head, tails in sorted(groups.items())
    ]
    body = "|".join(branches + sorted(rest, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])")


@dataclass(frozen=True)
class Vocabulary:
    always: re.Pattern[str]
    minors: re.Pattern[str]
    sexual: re.Pattern[str]
    harm: re.Pattern[str]
    protective: re.Pattern[str]
    adult_markers: re.Pattern[str]
    allowed: re.Pattern[str]
    negated: re.Pattern[str]
    joiner: re.Pattern[str]
    ages: re.Pattern[str]
    number_words: dict[str, int]
    young_age_groups: frozenset[str]
    adult_age: int


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The compiled word lists (read once per process)."""
    data: dict[str, Any] = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    harm = [term for group in data["harm"].values() for term in group]
    numbers = {str(k).lower(): int(v) for k, v in data["number_words"].items()}
    fillers = "|".join(re.escape(f) for f in data["negation_fillers"])
    negations = "|".join(re.escape(n) for n in data["negations"])
    joiners = "|".join(
        re.escape(j) if not j.isalpha() else rf"\b{j}\b" for j in data["list_joiners"]
    )
    number = rf"(?:\d{{1,2}}|{'|'.join(numbers)})"
    return Vocabulary(
        always=_words(data["always"]),
        minors=_words(data["minors"]),
        sexual=_words(data["sexual"]),
        harm=_words(harm),
        protective=_words(data["protective"]),
        adult_markers=_words(data["adult_markers"]),
        allowed=_words(data["allowed"]),
        # the negation must end right before the term: "no blood", "without any visible bruises"
        negated=re.compile(
            rf"(?<![\w-])(?:{negations})\s+(?:(?:{fillers})\s+)*$", re.IGNORECASE
        ),
        joiner=re.compile(rf"^(?:\s|{joiners})*$", re.IGNORECASE),
        ages=re.compile(
            rf"(?<![\w.]){number}\s*(?:(?:-|to|and)\s*{number})?\s*[- ]?(?:years?|yrs?|yo)\b|"
            rf"\bage[sd]?\s*(?:of\s*|:\s*)?{number}\b",
        ),
        number_words=numbers,
        young_age_groups=frozenset(data["young_age_groups"]),
        adult_age=int(data["adult_age"]),
    )


@lru_cache(maxsize=4096)
def _masked_text(text: str) -> str:
    return vocabulary().allowed.sub(lambda m: " " * len(m.group()), text.lower())


def _masked(text: str, v: Vocabulary) -> str:
    """`text` lower-cased, with allowed phrases ("head shots", "cut off") blanked (cached:
    one prompt is matched against several lists)."""
    return _masked_text(text or "")


def _hits(text: str, *patterns: re.Pattern[str]) -> list[str]:
    """Terms of `patterns` in `text` that are not negated, lower-cased, in order.

    A term is negated by a negation right before it, and so is every term after it in the
    same list ("no nudity, violence or blood"): the gap between them holds only joiners.
    """
    v = vocabulary()
    masked = _masked(text, v)
    found = sorted(
        {(m.start(), m.end(), m.group().lower()) for p in patterns for m in p.finditer(masked)}
    )
    out: list[str] = []
    negated_until: int | None = None
    for start, end, term in found:
        carried = negated_until is not None and bool(v.joiner.match(masked[negated_until:start]))
        if carried or v.negated.search(masked[max(0, start - 40) : start]):
            negated_until = end
            continue
        negated_until = None
        out.append(term)
    return out


def mentions_minors(text: str) -> bool:
    """Minor words ("children", "teens") or an age under 18 ("aged 8", "a twelve-year-old")."""
    v = vocabulary()
    masked = _masked(text, v)
    if v.minors.search(masked):
        return True
    for m in v.ages.finditer(masked):
        numbers = [int(n) if n.isdigit() else v.number_words[n.lower()]
                   for n in re.findall(rf"\d+|{'|'.join(v.number_words)}", m.group(), re.I)]
        if numbers and min(numbers) < v.adult_age:
            return True
    return False


def attributes_mention_minors(attributes: Mapping[str, str] | None) -> bool:
    """A child or teenager age group, or an `age` level under 18, among the attributes."""
    if not attributes:
        return False
    v = vocabulary()
    if attributes.get("age_group") in v.young_age_groups:
        return True
    age = str(attributes.get("age", "")).strip()
    return age.isdigit() and int(age) < v.adult_age


def always_refused(text: str) -> list[str]:
    """Terms refused whatever the context."""
    return _hits(text, vocabulary().always)


def harmful_terms(text: str) -> list[str]:
    """Sexual and harm terms in `text` (not negated), whoever is depicted."""
    v = vocabulary()
    return _hits(text, v.sexual, v.harm)


def text_problems(text: str, *, minors: bool = False) -> list[str]:
    """What makes free text unsafe: always-refused terms, and sexual or harm terms when
    minors are in it (or `minors` says they are in the picture)."""
    bad = always_refused(text)
    if minors or mentions_minors(text):
        bad += harmful_terms(text)
    return bad


def prompt_problems(
    prompt: str, negative_prompt: str = "", attributes: Mapping[str, str] | None = None
) -> list[str]:
    """What makes one generation request unsafe (empty when it is fine)."""
    young = attributes_mention_minors(attributes)
    return list(_prompt_problems(prompt or "", negative_prompt or "", young))


@lru_cache(maxsize=65536)
def _prompt_problems(prompt: str, negative: str, young: bool) -> tuple[str, ...]:
    # cached: template prompts repeat across a plan (a plan of 2,000 items has a few
    # hundred distinct prompts), and every item is checked at review and again at generation
    v = vocabulary()
    bad = always_refused(prompt) + always_refused(negative)
    minors = young or mentions_minors(prompt) or bool(_hits(negative, v.adult_markers))
    if minors:
        bad += harmful_terms(prompt)
        bad += [f"avoid {t}" for t in _hits(negative, v.protective)]
    return tuple(bad)


def suggestion_problems(prompt_words: str, negative_words: str = "") -> list[str]:
    """What makes words an LLM suggests for a prompt (and its negative prompt) unsafe: any
    sexual or harm term in the prompt words, whoever is depicted, and a negative that asks to
    avoid clothing or adults."""
    v = vocabulary()
    negative = negative_words or ""
    bad = always_refused(prompt_words or "") + harmful_terms(prompt_words or "")
    bad += always_refused(negative)
    bad += [f"avoid {t}" for t in _hits(negative, v.protective, v.adult_markers)]
    return bad


def describe(words: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(words))


def check_prompt(
    prompt: str,
    negative_prompt: str = "",
    attributes: Mapping[str, str] | None = None,
    *,
    what: str = "a prompt",
) -> None:
    """Raise UnsafePrompt naming `what` if this request may not reach a generator."""
    bad = prompt_problems(prompt, negative_prompt, attributes)
    if bad:
        raise UnsafePrompt(f"refused: {what}: {REFUSAL} (matched: {describe(bad)})")


def check_items(items: Iterable[_Prompted], *, after: str = "") -> None:
    """Check every item's prompt and negative prompt; the first unsafe one is refused with
    its id (and `after`, what the person should do)."""
    for item in items:
        bad = prompt_problems(item.prompt, item.negative_prompt, item.attributes)
        if bad:
            tail = f"; {after}" if after else ""
            raise UnsafePrompt(
                f"refused: item {item.id}: {REFUSAL} (matched: {describe(bad)}){tail}"
            )
