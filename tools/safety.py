"""The safety check every prompt passes before it reaches a generator.

facetory refuses images that sexualise minors or depict harm to them (injury, blood, violence,
weapons, abuse, captivity, distress, neglect, death, self-harm). A request is checked when it is
parsed, but words reach a generator from many writers after that: the prompt template, a hand
edit of plan.yaml, a class description, LLM enrichment, LLM retry wording, feedback, an
augmentation prompt. So the same rules run again on every prompt and negative prompt where
they all pass, just before a generator is called, and when a plan is reviewed and approved.

Text is read after `tools.safety_text.normalise` (look-alike letters, accents, zero-width
characters, case, hyphens and other joiners, spaced-out letters), so no list depends on
spelling. Two rules:

- Minors in the picture (minor words or ages under 18 in the prompt, a child or teenager age
  group in the item's attributes, or a negative prompt that asks the generator to avoid
  adults): an allow list. Every word of the prompt must be a reviewed word: the vocabulary's
  words and prompt phrases (`factors.yaml`), the words facetory's own prompt template, retry
  rules and augmentation prompts write, and the reviewed scene and context words of
  `safe_words.yaml`; inflections fold ("classrooms" is "classroom"). A negative prompt may
  also name what must not appear ("nsfw, nudity, blood" is protective), but not clothing or
  adults. Any other word refuses the item, naming the word: a list of bad words always has
  holes, a list of reviewed words has none. The deny lists below still apply on top.
- Whoever is depicted: a deny list. Some terms are refused whatever the context; words an LLM
  suggests may hold no sexual or harm term at all, since they are appended to whole cells of
  prompts unseen. A term directly negated ("no blood", "without any bruises") does not count;
  a negation covers only the single term right after it ("no nudity, bruises" counts bruises).

The word lists are data: `tools/vocabulary/safety.yaml` (deny) and `safe_words.yaml` (allow).
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
from tools.safety_text import normalise, stem, tokens, unleet
from tools.vocabulary import MINOR_AGE_GROUPS

VOCABULARY = Path(__file__).with_name("vocabulary") / "safety.yaml"
SAFE_WORDS = Path(__file__).with_name("vocabulary") / "safe_words.yaml"
REFUSAL = "facetory does not plan images that sexualise minors or depict harm to them"
HOW_TO_ADD = f"add it to tools/vocabulary/{SAFE_WORDS.name} after review"


class UnsafePrompt(FacetoryError):
    """A prompt facetory will not send to a generator (one line, exit code 2)."""


class _Prompted(Protocol):
    id: str
    class_name: str
    prompt: str
    negative_prompt: str
    attributes: dict[str, str]


def item_prompt(item: _Prompted) -> str:
    """The words a generator draws `item` from: its prompt, or for an item left without one
    the words a backend's default prompt is made of (its class name and attribute levels,
    `tools.generate.diffusers_backend.default_prompt`)."""
    if item.prompt:
        return item.prompt
    levels = [f"{level} {factor}" for factor, level in item.attributes.items()]
    return ", ".join([f"a photo of a {item.class_name} face", *levels])


def _words(terms: Iterable[str]) -> re.Pattern[str]:
    """Whole-word alternation, longest first, over normalised text (where a hyphen is a
    space: "self-?harm" matches "self harm" and "selfharm")."""
    terms = list(terms)
    odd = [t for t in terms if not isinstance(t, str) or t != t.lower()]
    if odd:  # YAML reads `no` as false and `a: b` as a mapping: quote such entries
        raise ValueError(f"{VOCABULARY}: every term must be a lower-case string, got {odd[0]!r}")
    terms = [t.replace("-?", " ?").replace("-", " ") for t in terms]
    # Matched case-sensitively against lower-cased text, with branches grouped by their first
    # letter: Python's re tries alternatives one by one, and IGNORECASE makes each try slow.
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
    return re.compile(rf"(?<![\w])(?:{body})(?![\w])")


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
    compounds: re.Pattern[str]
    compound_tail: re.Pattern[str]
    ages: re.Pattern[str]
    number_words: dict[str, int]
    young_age_groups: frozenset[str]
    adult_age: int
    reviewed: frozenset[str]
    """Stems of the words a prompt for minors may hold."""
    reviewed_negative: frozenset[str]
    """Stems a negative prompt for minors may hold besides `reviewed` and the deny lists."""


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The compiled word lists (read once per process)."""
    data: dict[str, Any] = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    harm = [term for group in data["harm"].values() for term in group]
    numbers = {str(k).lower(): int(v) for k, v in data["number_words"].items()}
    fillers = "|".join(re.escape(f) for f in data["negation_fillers"])
    negations = "|".join(re.escape(n) for n in data["negations"])
    number = rf"(?:\d{{1,2}}|{'|'.join(numbers)})"
    prompt_words, negative_words = _reviewed_words()
    return Vocabulary(
        always=_words(data["always"]),
        minors=_words(data["minors"]),
        sexual=_words(data["sexual"]),
        harm=_words(harm),
        protective=_words(data["protective"]),
        adult_markers=_words(data["adult_markers"]),
        allowed=_words(data["allowed"]),
        # the negation must end right before the term: "no blood", "without any visible bruises"
        negated=re.compile(rf"(?<![\w])(?:{negations})\s+(?:(?:{fillers})\s+)*$"),
        compounds=re.compile(rf"\b([a-z]{{3,}}?)({'|'.join(data['compound_tails'])})\b"),
        compound_tail=re.compile(rf"[a-z]{{3}}(?:{'|'.join(data['compound_tails'])})\b"),
        ages=re.compile(
            rf"(?<![\w.]){number}\s*(?:(?:to|and)\s*{number})?\s*(?:years?|yrs?|yo)\b|"
            rf"\bage[sd]?\s*(?:of\s*|:\s*)?{number}\b",
        ),
        number_words=numbers,
        young_age_groups=MINOR_AGE_GROUPS,
        adult_age=int(data["adult_age"]),
        reviewed=frozenset(stem(w) for w in prompt_words),
        reviewed_negative=frozenset(stem(w) for w in negative_words),
    )


def _reviewed_words() -> tuple[list[str], list[str]]:
    """(words a prompt for minors may hold, words only its negative prompt may hold): the
    lists of `safe_words.yaml` and the vocabulary of `factors.yaml`."""
    from tools.vocabulary import VOCABULARY as FACTORS

    data: dict[str, Any] = yaml.safe_load(SAFE_WORDS.read_text(encoding="utf-8"))
    prompt = [*data["template"], *data["scene"]]
    negative = list(data["template_negative"])
    _check_reviewed(prompt)
    for name, factor in FACTORS.items():
        prompt += [name, factor.title, *factor.names]
        for level, words in factor.levels.items():
            prompt += [level, words.prompt, *words.words]
            negative.append(words.negative)
    return (
        [w for phrase in prompt for w in tokens(str(phrase)) if not _refused_word(w)],
        [w for phrase in negative for w in tokens(str(phrase))],
    )


def _refused_word(word: str) -> bool:
    """A word the deny lists refuse on its own ("cut" of the vocabulary's "buzz cut" is
    reviewed only inside the allowed phrases of safety.yaml)."""
    return _deny_pattern().search(word) is not None


@lru_cache(maxsize=1)
def _deny_pattern() -> re.Pattern[str]:
    data: dict[str, Any] = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    harm = [t for group in data["harm"].values() for t in group]
    return _words([*data["always"], *data["sexual"], *harm])


def _check_reviewed(phrases: list[str]) -> None:
    """A reviewed word may not be a sexual or harm term: the allow list cannot undo the deny
    list, whoever edits it."""
    for phrase in phrases:
        for word in tokens(str(phrase)):
            if _refused_word(word):
                raise ValueError(
                    f"{SAFE_WORDS}: {word!r} is a refused term (tools/vocabulary/safety.yaml) "
                    "and cannot be a reviewed word"
                )


@lru_cache(maxsize=4096)
def _masked_text(text: str) -> str:
    v = vocabulary()
    text = normalise(text)
    if v.compound_tail.search(text):  # cheap: most prompts hold no compound tail at all
        text = v.compounds.sub(r"\1 \2", text)
    return v.allowed.sub(lambda m: " " * len(m.group()), text)


def _masked(text: str, v: Vocabulary) -> str:
    """`text` normalised, with allowed phrases ("head shots", "cut off") blanked (cached:
    one prompt is matched against several lists)."""
    return _masked_text(text or "")


def _hits(text: str, *patterns: re.Pattern[str]) -> list[str]:
    """Terms of `patterns` in `text` that are not negated, in order.

    A negation right before a term ("no blood", "without any visible bruises") negates that
    term only: in "no nudity, bruises and welts" bruises and welts count. Words spelled with
    digits for letters ("bl00d") are read both ways.
    """
    return list(_hits_of(text or "", patterns))


@lru_cache(maxsize=16384)
def _hits_of(text: str, patterns: tuple[re.Pattern[str], ...]) -> tuple[str, ...]:
    """`_hits`, cached: negative prompts and template parts repeat across a plan."""
    v = vocabulary()
    masked = _masked(text, v)
    readings = dict.fromkeys([masked, unleet(masked)])
    found = sorted(
        {
            (m.start(), m.end(), m.group())
            for reading in readings
            for p in patterns
            for m in p.finditer(reading)
        }
    )
    return tuple(term for start, _, term in found if not _negated(masked, start, v))


def _negated(masked: str, start: int, v: Vocabulary) -> bool:
    """A negation right before `start`, itself not negated ("not without blood" is blood)."""
    m = v.negated.search(masked[max(0, start - 40) : start])
    if m is None:
        return False
    before = max(0, start - 40) + m.start()
    return v.negated.search(masked[max(0, before - 20) : before]) is None


def mentions_minors(text: str) -> bool:
    """Minor words ("children", "teens") or an age under 18 ("aged 8", "a twelve-year-old")."""
    v = vocabulary()
    masked = _masked(text, v)
    if v.minors.search(masked) or v.minors.search(unleet(masked)):
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


def unreviewed_words(text: str, *, negative: bool = False) -> list[str]:
    """Words of `text` outside the allow list for images of minors, in order. In a negative
    prompt the deny lists' terms are reviewed too: it names what must not appear."""
    return list(_unreviewed(text or "", negative))


@lru_cache(maxsize=16384)
def _unreviewed(text: str, negative: bool) -> tuple[str, ...]:
    v = vocabulary()
    text = _masked(text, v)  # the allowed phrases of safety.yaml ("buzz cut") are reviewed
    if negative:
        for p in (v.sexual, v.harm, v.always):
            text = p.sub(lambda m: " " * len(m.group()), text)
    allowed = v.reviewed | v.reviewed_negative if negative else v.reviewed
    out = [w for w in tokens(text) if not w.isdigit() and stem(w) not in allowed]
    return tuple(dict.fromkeys(out))


def prompt_problems(
    prompt: str, negative_prompt: str = "", attributes: Mapping[str, str] | None = None
) -> list[str]:
    """What makes one generation request unsafe (empty when it is fine): refused terms,
    then unreviewed words."""
    denied, unreviewed = _prompt_problems(
        prompt or "", negative_prompt or "", attributes_mention_minors(attributes)
    )
    return list(dict.fromkeys([*denied, *unreviewed]))


def refusal(
    prompt: str, negative_prompt: str = "", attributes: Mapping[str, str] | None = None
) -> str | None:
    """Why this request may not reach a generator, in words for a person (None: it may)."""
    denied, unreviewed = _prompt_problems(
        prompt or "", negative_prompt or "", attributes_mention_minors(attributes)
    )
    if denied:
        return f"{REFUSAL} (matched: {describe(denied)})"
    if unreviewed:
        return unreviewed_message(unreviewed)
    return None


def unreviewed_message(words: Iterable[str]) -> str:
    """One line naming the first unreviewed word and how a person adds a safe one."""
    word = next(iter(words))
    return f"{word!r} is not a reviewed word for images of minors; {HOW_TO_ADD}"


@lru_cache(maxsize=65536)
def _prompt_problems(
    prompt: str, negative: str, young: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(refused terms, unreviewed words). Cached: template prompts repeat across a plan (a
    plan of 2,000 items has a few hundred distinct prompts), and every item is checked at
    review and again at generation."""
    v = vocabulary()
    bad = always_refused(prompt) + always_refused(negative)
    minors = young or mentions_minors(prompt) or bool(_hits(negative, v.adult_markers))
    if not minors:
        return tuple(bad), ()
    bad += harmful_terms(prompt)
    bad += [f"avoid {t}" for t in _hits(negative, v.protective)]
    unreviewed = unreviewed_words(prompt) + unreviewed_words(negative, negative=True)
    return tuple(bad), tuple(dict.fromkeys(unreviewed))


def suggestion_problems(
    prompt_words: str, negative_words: str = "", *, minors: bool = False
) -> list[str]:
    """What makes words an LLM suggests for a prompt (and its negative prompt) unsafe: any
    sexual or harm term in the prompt words, whoever is depicted, a negative that asks to
    avoid clothing or adults, and, for images of minors, any unreviewed word."""
    v = vocabulary()
    negative = negative_words or ""
    bad = always_refused(prompt_words or "") + harmful_terms(prompt_words or "")
    bad += always_refused(negative)
    bad += [f"avoid {t}" for t in _hits(negative, v.protective, v.adult_markers)]
    if minors:
        bad += unreviewed_words(prompt_words or "")
        bad += unreviewed_words(negative, negative=True)
    return list(dict.fromkeys(bad))


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
    why = refusal(prompt, negative_prompt, attributes)
    if why:
        raise UnsafePrompt(f"refused: {what}: {why}")


def check_items(items: Iterable[_Prompted], *, after: str = "") -> None:
    """Check every item's prompt and negative prompt; the first unsafe one is refused with
    its id (and `after`, what the person should do)."""
    for item in items:
        why = refusal(item_prompt(item), item.negative_prompt, item.attributes)
        if why:
            tail = f"; {after}" if after else ""
            raise UnsafePrompt(f"refused: item {item.id}: {why}{tail}")
