"""Refuse, at the spec stage, requests that sexualise minors or depict harm to them.

The check runs on the person's raw words *and* on every free-text field of the parsed spec
(an LLM parser can reword a request, a YAML spec can hide it in a class description), and it
does not depend on the generation backend: nothing is planned, written or generated.
A request is refused when it involves minors (words like "children", ages under 18, the
child/teenager age groups) and asks for sexual content or for harm (abuse, injury, violence).
Some terms are refused whatever the context. A term directly negated ("no nudity",
"without blood") does not count.
"""

from __future__ import annotations

import re

from agent.spec import DatasetSpec, SpecError

_MINOR = re.compile(
    r"\b(child|children|childs|kids?|kiddies|minors?|under-?age|teens?|teenagers?|teenaged|"
    r"adolescents?|boys?|girls?|toddlers?|infants?|bab(?:y|ies)|pre-?teens?|tweens?|"
    r"school ?(?:girl|boy)s?|juveniles?|youngsters?|little ones|young (?:boy|girl)s?|"
    r"pre-?pubescent|pubescent|elementary school\w*|middle school\w*|kindergarten\w*)\b",
    re.IGNORECASE,
)
_AGE = re.compile(
    r"\b(\d{1,2})\s*(?:-|to|and)?\s*(\d{1,2})?\s*[- ]?(?:years?|yrs?|yo)\b[- ]?(?:old|of age)?|"
    r"\bage[sd]?\s*(?:of\s*)?(\d{1,2})\b",
    re.IGNORECASE,
)
_SEXUAL = re.compile(
    r"(?<![\w-])(sex|sexy|sexual\w*|sexualis\w*|sexualiz\w*|erotic\w*|nude|nudes|nudity|naked|"
    r"undress\w*|unclothed|topless|bottomless|lingerie|underwear|bikinis?|swimsuits?|"
    r"seductive\w*|provocative\w*|sensual\w*|porn\w*|nsfw|xxx|explicit|fetish\w*|lewd\w*|"
    r"arous\w*|orgasm\w*|intimate|suggestive\w*|genital\w*|breasts?|strip(?:ping|per|tease)?|"
    r"hentai|kinky|bedroom|(?:no|without|not wearing(?: any)?) cloth(?:es|ing))(?![\w-])",
    re.IGNORECASE,
)
_HARM = re.compile(
    r"(?<![\w-])(abus\w*|beaten|beating|battered|bruis\w*|bleed\w*|blood\w*|injur\w*|wound\w*|"
    r"tortur\w*|violen\w*|hurt|hurting|slapp\w*|punch\w*|kicked|kicking|kidnap\w*|abduct\w*|"
    r"tied up|gagged|restrained|chained|dead|death|corpses?|murder\w*|kill\w*|starv\w*|"
    r"maim\w*|mutilat\w*|traffick\w*|molest\w*|groom\w*|rap(?:e|ed|ing)|assault\w*|"
    r"self-?harm\w*|suicid\w*|guns?|weapons?|knife|knives|crying in pain|terrified of)(?![\w-])",
    re.IGNORECASE,
)
_ALWAYS = re.compile(
    r"(?<![\w-])(lolis?|lolicon|shota|shotacon|jailbait|csam|pedo|pedos|paedo|"
    r"p(?:a)?edophil\w*|child porn\w*)(?![\w-])",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(no|not|without|never|non|avoid|avoiding|exclude|excluding|nothing)\W*$")
_YOUNG_GROUPS = {"child", "teenager"}


class RefusedError(SpecError):
    """A request facetory will not plan (exit code 2, one line, nothing written)."""


def _hits(pattern: re.Pattern[str], text: str) -> list[str]:
    """Matches of `pattern` that are not directly negated ("no nudity")."""
    out = []
    for m in pattern.finditer(text):
        before = text[max(0, m.start() - 30) : m.start()]
        words = re.findall(r"[\w-]+", before)[-2:]
        if words and _NEGATION.search(" ".join(words) + " "):
            continue
        out.append(m.group(0).lower())
    return out


def _mentions_minor_age(text: str) -> bool:
    for m in _AGE.finditer(text):
        numbers = [int(g) for g in m.groups() if g]
        if numbers and min(numbers) < 18:
            return True
    return False


def spec_text(spec: DatasetSpec) -> str:
    """Every free-text field of a spec, one per line."""
    parts = [spec.name, spec.subject, spec.generation.style, spec.generation.model or ""]
    for c in spec.classes:
        parts += [c.name, c.description, *c.attributes.values()]
    for f in spec.factors:
        parts += [f.name.replace("_", " "), *(lv.name for lv in f.levels)]
    for a in spec.augmentations:
        parts += [a.name, a.prompt, *a.attributes.values()]
    return "\n".join(p for p in parts if p)


def _spec_has_minors(spec: DatasetSpec) -> bool:
    for c in spec.classes:
        if c.attributes.get("age_group") in _YOUNG_GROUPS:
            return True
    for f in spec.factors:
        if f.name == "age_group" and _YOUNG_GROUPS & set(f.level_names()):
            return True
        if f.numeric is not None and f.name == "age" and f.numeric.low < 18:
            return True
    return False


def check_request(text: str, spec: DatasetSpec | None = None) -> None:
    """Raise RefusedError if the words (and the spec, when given) sexualise minors or
    depict harm to them; return quietly otherwise."""
    texts = [text or ""]
    if spec is not None:
        texts.append(spec_text(spec))
    joined = "\n".join(texts)
    always = _hits(_ALWAYS, joined)
    if always:
        raise RefusedError(_message(always))
    minors = bool(_MINOR.search(joined)) or _mentions_minor_age(joined)
    if spec is not None and _spec_has_minors(spec):
        minors = True
    if not minors:
        return
    bad = _hits(_SEXUAL, joined) + _hits(_HARM, joined)
    if bad:
        raise RefusedError(_message(bad))


def _message(words: list[str]) -> str:
    shown = ", ".join(dict.fromkeys(words))
    return (
        "refused: facetory does not plan images that sexualise minors or depict harm to them "
        f"(matched: {shown})"
    )
