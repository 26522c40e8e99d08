"""The words the offline reader knows: vocabulary phrases as patterns, and numbers as digits.

Every level and factor phrase comes from the vocabulary (`tools/vocabulary/factors.yaml`) with
its inflections; this module only adds the grammar around them: which words frame a request
without asking for anything, and how people write numbers and shares ("1.5k", "twelve hundred",
"a dozen", "half of them", "one in five").
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tools.vocabulary import ACCESSORIES, MINOR_AGE_GROUPS, VOCABULARY, WORN, inflections

#: The accounting's rules as data (`agent.language.rules.RULES` is this mapping).
ACCOUNTING: dict = yaml.safe_load(
    (Path(__file__).parents[3] / "tools" / "vocabulary" / "accounting.yaml").read_text("utf-8")
)

_SHORTHAND = [(re.compile(p, re.IGNORECASE), r) for p, r in ACCOUNTING["shorthand"]]
_BULLETS = re.compile(rf"(?:{ACCOUNTING['bullet']}[^\n]*(?:\n|$)){{2,}}", re.MULTILINE)
_BULLET = re.compile(ACCOUNTING["bullet"], re.MULTILINE)


def normalised(text: str) -> str:
    """Shorthand as words ('300 ea' -> '300 each', 'w/ hats' -> 'with hats'), and a bulleted
    or numbered list on its own lines as one comma-separated line."""
    for rx, rep in _SHORTHAND:
        text = rx.sub(rep, text)

    def one_line(m: re.Match[str]) -> str:
        items = [_BULLET.sub("", x).strip(" ,;.") for x in m.group(0).splitlines()]
        sep = "; " if any(":" in x for x in items) else ", "  # 'happy: 500; sad: 500'
        return sep.join(x for x in items if x) + ("\n" if m.group(0).endswith("\n") else "")

    text = _BULLETS.sub(one_line, text)
    return re.sub(r":[^\S\n]*\n(?=[^\n]*,)", ": ", text)  # 'Classes:\n a, b' -> 'Classes: a, b'


B, E = r"(?<![\w-])", r"(?![\w-])"
# a space that stays on its line: a line break ends a phrase as a sentence end does, so feedback
# joined to a request by a newline ("...half with sunglasses\n30% wear hats") starts afresh
GAP = r"[^\S\n]"


def _alternation(phrases: list[str]) -> str:
    forms = sorted({f for p in phrases for f in inflections(p)}, key=len, reverse=True)
    return "|".join(re.escape(f).replace(r"\ ", r"[\s_]+") for f in forms)


def compile_words(rx: str) -> re.Pattern[str]:
    return re.compile(B + "(?:" + rx + ")" + E)


#: Every single phrase with its (factor, level), longest first: one alternation finds them all.
PHRASES: list[tuple[str, str, str]] = sorted(
    (
        (form, factor, name)
        for factor, fw in VOCABULARY.items()
        for name, body in fw.levels.items()
        for phrase in [*body.words, *([] if name == "none" else [name.replace("_", " ")])]
        for form in inflections(phrase)
    ),
    key=lambda t: -len(t[0]),
)
_PHRASE_INDEX: dict[str, tuple[str, str]] = {}
for _form, _factor, _level in PHRASES:
    _PHRASE_INDEX.setdefault(_form, (_factor, _level))
ANY_LEVEL = "|".join(re.escape(f).replace(r"\ ", r"[\s_]+") for f, _, _ in PHRASES)
ANY_LEVEL_RX = compile_words(ANY_LEVEL)

#: Factor names (longest first). "accessories" names two factors at once.
FACTOR_NAMES: list[tuple[str, tuple[str, ...]]] = sorted(
    [(_alternation(fw.names), (factor,)) for factor, fw in VOCABULARY.items()]
    + [(_alternation(["accessories", "accessory"]), ACCESSORIES)],
    key=lambda t: -max(len(x) for x in t[0].split("|")),
)
FACTOR_RX = [(compile_words(rx), fs) for rx, fs in FACTOR_NAMES]
ANY_FACTOR = "|".join(rx for rx, _ in FACTOR_NAMES)
ANY_FACTOR_RX = compile_words(ANY_FACTOR)

#: Adult age groups ("adults", "grown-ups"): those not marked `minor` in factors.yaml.
ADULT = tuple(g for g in VOCABULARY["age_group"].levels if g not in MINOR_AGE_GROUPS)

#: Factors whose excluded level ('no children') leaves the other levels, equally.
EXCLUDABLE = frozenset(ACCOUNTING["excludable_factors"])


def levels_of(phrase: str) -> list[tuple[str, str]]:
    """Every (factor, level) a phrase can name ('black': ethnicity and hair colour)."""
    key = " ".join(phrase.lower().replace("_", " ").split()).strip(" .,:;()'\"")
    return list(dict.fromkeys((f, lv) for form, f, lv in PHRASES if form == key))


def level_of(phrase: str, factor: str | None = None) -> tuple[str, str] | None:
    """The (factor, level) a phrase names, exactly (case, spacing and plural aside)."""
    key = " ".join(phrase.lower().replace("_", " ").split()).strip(" .,:;()'\"")
    key = re.sub(r"\s*-\s*", "-", key)
    if factor is not None:
        return _level_of_factor(key, factor)
    hit = _PHRASE_INDEX.get(key) or _PHRASE_INDEX.get(key.replace("-", " "))
    if hit is None:  # 'indoor background', 'blue eye colour': a level, then its factor's name
        for rx, fs in FACTOR_RX:
            m = re.search(rf"\s+(?:{rx.pattern})$", key)
            if m and m.start() > 0:
                inner = level_of(key[: m.start()])
                if inner is not None and inner[0] in fs:
                    return inner
    return hit


def _level_of_factor(key: str, factor: str) -> tuple[str, str] | None:
    """The level of `factor` a normalised phrase names: its name, one of its words, or
    'none'/'no'/'without' for something worn."""
    for lv in VOCABULARY[factor].levels if factor in VOCABULARY else ():
        if key in (lv, lv.replace("_", " "), lv.replace("_", "-")):
            return factor, lv
    for form, f, lv in PHRASES:
        if f == factor and key in (form, form.replace("-", " ")):
            return f, lv
    if factor in WORN and key in ("none", "no", "without"):
        return factor, "none"
    return None


# --- a negated accessory ('without sunglasses', 'nobody wears a hat') ----------------------

#: Words that negate the accessory after them.
_NEGATION = (
    r"(?:no|without|not\s+(?:wearing|with)|never\s+(?:wears?|wearing)|"
    r"(?:don'?t|do\s+not)\s+(?:want|need|include|add|draw)(?:\s+(?:anyone|anybody)\s+(?:with|in))?|"
    r"(?:nobody|no\s+one|no-one|none(?:\s+of\s+them)?)"
    r"(?:\s+(?:should|will|must|shall|may|can|is\s+to|are\s+to)(?:\s+be)?)?"
    r"(?:\s+(?:wears?|wearing|with|has|have|in|on))?)"
    r"(?:\s+(?:an?|any))?"
)
#: Per factor whose rest is 'none' (eyewear, headwear, mask): its other levels' words, and the
#: phrase its 'none' level is read from.
_ACCESSORIES = {
    factor: (re.compile(B + "(?:" + _alternation(
        [w for lv, body in fw.levels.items() if lv != "none"
         for w in [*body.words, lv.replace("_", " ")]]) + ")" + E, re.IGNORECASE),
        fw.levels["none"].words[0])
    for factor, fw in VOCABULARY.items()
    if fw.rest == "none" and "none" in fw.levels and fw.levels["none"].words
}


def negated(text: str) -> str:
    """'without sunglasses', 'no one wears a hat' -> the factor's 'none' phrase ('no glasses',
    'no hat'), when it is the only mention of that factor: read word by word they asked for
    the very accessory they excluded (a new user's '30 faces without sunglasses' drew
    sunglasses on every face). Beside another mention ('30% wear glasses, no sunglasses') the
    text is left as it is, for the rules that read shares."""
    for levels, none_phrase in _ACCESSORIES.values():
        found = list(levels.finditer(text))
        if len(found) != 1:
            continue
        m = found[0]
        start = _list_start(text, m.start())  # 'no masks, hats or glasses': each one negated
        before = re.search(rf"{B}{_NEGATION}\s+$", text[:start], re.IGNORECASE)
        if start != m.start():  # a list item after 'no glasses, ' is negated by it too,
            before = before or _NONES.match(text, start)  # unless it has its own number
            before = None if re.match(r"[^,;.\n]{0,15}?\d", text[m.end():]) else before
        if none_after := _NONE_AFTER.match(text, m.end()):  # 'glasses: none'
            text = text[: m.start()] + none_phrase + text[none_after.end():]
            continue
        if before is not None and not re.search(r"\bwith\s+or\s+$", text[: before.start()]):
            cut = before.start() if start == m.start() else m.start()
            text = text[:cut] + none_phrase + text[m.end():]
    return text


#: An accessory word or a 'none' phrase, then a list separator: one more item of a list.
_ITEM = re.compile(
    r"(?:" + "|".join(rx.pattern for rx, _ in _ACCESSORIES.values()) + "|"
    + "|".join(re.escape(n) for _, n in _ACCESSORIES.values())
    + r")\s*(?:,|/|\bor\b|\bnor\b|\band\b)\s*(?:,\s*)?(?:or\s+|and\s+)?$", re.IGNORECASE)


#: After an accessory, words that say nobody has it ('glasses: none', 'hats - no').
_NONE_AFTER = re.compile(r"\s*[:=-]\s*(?:none|no|zero|0|0\s*%)(?![\w%])", re.IGNORECASE)
_NONES = re.compile("|".join(re.escape(n) for _, n in _ACCESSORIES.values()), re.IGNORECASE)


def _list_start(text: str, pos: int) -> int:
    """Where a list of accessories that ends at `pos` begins ('no masks, hats or glasses')."""
    while (m := _ITEM.search(text, max(0, pos - 60), pos)) is not None and m.end() == pos:
        pos = m.start()
    return pos


# --- words that frame a request without asking for anything --------------------------------

#: Nouns that name what is counted ("300 faces", "1.5k headshots").
COUNT_NOUNS = (
    r"(?:images?|faces?|photos?|photographs?|pictures?|pics?|portraits?|samples?|headshots?|"
    r"head\s*shots?|shots?|frames?|examples?|renders?|renderings?|crops?|selfies?|mugshots?|"
    r"imgs?|stills?)"
)
#: People nouns a count can stand on when the request is not about identities.
PEOPLE_NOUNS = (
    r"(?:people|persons|individuals|subjects|humans|folks|employees|staff|users|customers|"
    r"students|patients|participants|volunteers|members|workers|visitors|travell?ers|"
    r"passengers|residents|models)"
)

#: Small words that never carry a requirement, even among requirement words.
FILLER = set(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "into",
        "on",
        "at",
        "to",
        "for",
        "with",
        "and",
        "or",
        "but",
        "so",
        "that",
        "this",
        "these",
        "those",
        "each",
        "every",
        "all",
        "any",
        "as",
        "by",
        "from",
        "is",
        "are",
        "be",
        "i",
        "we",
        "you",
        "it",
        "its",
        "them",
        "their",
        "they",
        "there",
        "here",
        "per",
        "both",
        "one",
        "ones",
    ]
)

#: Visual attributes people ask for that facetory can neither draw nor check as a factor.
UNREPRESENTABLE_RX = re.compile(
    r"(?:tattoo|piercing|earring|nose ?ring|freckle|scar|mole|birthmark|makeup|make-up|"
    r"lipstick|eyeliner|mascara|goatee|sideburn|dimple|"
    r"wrinkle|acne|pimple|blemish|headphone|earphone|headset|necklace|jewel(?:le)?ry|"
    r"hijab|headscarf|turban|veil|niqab|helmet|bandana|scarf|tie|bowtie|collar|hoodie|"
    r"uniform|braces|piercing|celebrit(?:y|ies)|famous|actor|actress)(?:s|es|ed)?",
)

#: Words of intent and context that never carry a requirement by themselves.
TASK_WORDS = {
    "detect": r"detect(?:s|ion|or|ors|ing)?|localis\w*|localiz\w*|bounding\s+box(?:es)?|boxes",
    "classify": r"classif(?:y|ies|ication|ier|iers|ying)|categori[sz](?:e|ation|er)|recogni[sz]er",
}


# --- numbers -------------------------------------------------------------------------------

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {
    "hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 10**9, "trillion": 10**12,
}  # a count the size limit then refuses is better than one silently read as "10"
_BIG = "|".join(w for w in _SCALES if w != "hundred")  # thousand|million|billion|trillion
_SHARES = {
    "half": 50, "a half": 50, "one half": 50, "a third": 100 / 3, "one third": 100 / 3,
    "two thirds": 200 / 3, "a quarter": 25, "one quarter": 25, "three quarters": 75,
    "a fifth": 20, "one fifth": 20, "two fifths": 40, "three fifths": 60, "four fifths": 80,
    "a tenth": 10, "one tenth": 10, "a sixth": 100 / 6, "one sixth": 100 / 6,
}  # fmt: skip
_PRONOUN_ONE = re.compile(r"\b(each|every|no|any|this|that|which|the|a)\s+one\b", re.IGNORECASE)


def number(text: str) -> float:
    """'1,500' / '1.5k' / '10 thousand' / '2 million' -> a float."""
    text = text.lower().replace(",", "").strip()
    mult = 1.0
    for suffix, m in (*((w, float(n)) for w, n in _SCALES.items()), ("k", 1e3)):
        if text.endswith(suffix):
            text, mult = text[: -len(suffix)].strip(), m
            break
    return float(text) * mult


def _spelled(m: re.Match[str]) -> str:
    words = [w for w in re.split(r"[\s-]+", m.group(0).lower()) if w and w != "and"]
    total, current = 0, 0
    for w in words:
        if w in ("a", "an"):
            current = 1
        elif w == "dozen":
            current = max(current, 1) * 12
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w in _SCALES and w != "hundred":
            total += max(current, 1) * _SCALES[w]
            current = 0
        else:
            current += _UNITS[w]
    return str(total + current)


def digits(text: str) -> str:
    """Numbers and shares as digits, so the rules only need one form.

    'twelve hundred' -> 1200, 'a dozen' -> 12, '1.5k' -> 1500, '10 thousand' -> 10000,
    '2,500' -> 2500, 'half of them' -> '50% of them', 'one in five' -> '20%', '30 percent' ->
    '30%'. The text keeps its length wherever it can, but callers must not rely on offsets into
    the original.
    """
    text = _PRONOUN_ONE.sub(lambda m: f"{m.group(1)} item", text)
    text = re.sub(
        rf"\bhalf\s+an?\s+(hundred|{_BIG})\b",
        lambda m: str(_SCALES[m.group(1).lower()] // 2),
        text,
        flags=re.IGNORECASE,
    )
    for share, pct in sorted(_SHARES.items(), key=lambda kv: -len(kv[0])):
        rx = rf"(?<!\bin )(?<!\binto )\b{share}\b(?!\s+(?:class|classes|group|groups)\b)"
        text = re.sub(rx, f"{pct:.4g}%", text, flags=re.IGNORECASE)
    text = re.sub(
        r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:in|out of)\s+"
        r"(\d+|two|three|four|five|six|seven|eight|nine|ten|twenty|hundred)\b"
        r"(?!\s+(?:[\w-]+\s+)?(?:class|classes|groups?|categor\w+|types?|kinds?|bins?)\b)",
        _one_in,
        text,
        flags=re.IGNORECASE,
    )
    text = re.sub(r"\b(\d{1,3}(?:,\d{3})+)\b", lambda m: m.group(1).replace(",", ""), text)
    text = re.sub(r"(?<![\d.,/:])\b(\d{1,2}) (\d{3})\b(?![\d.,/:%])", r"\1\2", text)  # '10 000'
    text = re.sub(r"(?<![\d.,/:])\b([1-9])/([2-9]|10)\b(?=\s+(?:of\s+)?[a-z])", _fraction, text)
    text = re.sub(
        rf"\b(\d+(?:\.\d+)?)\s*(k|{_BIG}|hundred)\b",
        lambda m: _plain(number(m.group(1) + m.group(2))),
        text,
        flags=re.IGNORECASE,
    )
    units = "|".join(sorted(_UNITS, key=len, reverse=True))
    word = rf"(?:{units}|hundred|{_BIG}|dozen)"
    spelled = rf"\b(?:(?:a|an)\s+(?=(?:dozen|hundred|{_BIG})\b))?{word}"
    spelled += rf"(?:(?:[\s-]+|(?<=hundred)\s+and\s+|(?<=thousand)\s+and\s+)(?={word}\b){word})*\b"
    text = re.sub(spelled, _spelled, text, flags=re.IGNORECASE)
    text = re.sub(r"\b(\d{1,3}(?:,\d{3})+)\b", lambda m: m.group(1).replace(",", ""), text)
    text = re.sub(r"\b(\d+(?:\.\d+)?)\s*(?:percent|per\s*cent|pct)\b", r"\1%", text, flags=re.I)
    return text


def _fraction(m: re.Match[str]) -> str:
    """'1/3 child' -> '33.3333333333% child' (a share, when the part is under the whole)."""
    part, whole = int(m.group(1)), int(m.group(2))
    return f"{100 * part / whole:.10g}%" if part < whole else m.group(0)


def _as_int(word: str) -> int:
    word = word.lower()
    return int(word) if word.isdigit() else {"hundred": 100, **_UNITS}[word]


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _one_in(m: re.Match[str]) -> str:
    """'one in five' -> '20%' (only a part of a whole: 'twelve in five' stays as it is)."""
    part, whole = _as_int(m.group(1)), _as_int(m.group(2))
    return f"{100 * part / whole:.4g}%" if 0 < part < whole else m.group(0)


# --- spelling ------------------------------------------------------------------------------

_GRAMMAR = """
    across balanced balance between among classes class images pictures photos portraits
    identities people persons percent training validation testing evenly equally represented
    distributed spread varied different various exactly each every total split ratio image
    picture photo portrait person identity
""".split()  # noqa: SIM905 -- a word list reads best as words
_KNOWN: set[str] = {
    w
    for fw in VOCABULARY.values()
    for phrase in [*fw.names, *(x for lv in fw.levels.values() for x in lv.words)]
    for form in inflections(phrase)
    for w in re.findall(r"[a-z]+", form)
} | set(_GRAMMAR) | {
    w for group in ACCOUNTING["safe_words"].values() for w in group.split()
}  # the words a request may use around the vocabulary (reader/content.py)


def _one_edit(word: str) -> set[str]:
    """Words one slip away: a letter missing, a letter doubled, two neighbours swapped. Not a
    letter changed or dropped ('closer' is a word, not a typo of 'closed'; nor 'range' of
    'rage')."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if len(b) > 1 and b[0] == b[1]}  # 'accross'
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    inserts = {a + c + b for a, b in splits for c in letters}
    return deletes | swaps | inserts


def near_words(word: str) -> list[str]:
    """Known words one slip from `word` (any first letter): what a question offers."""
    return sorted(w for w in _one_edit(word.lower()) & _KNOWN if w.rstrip("s") != word.rstrip("s"))


def correct_spelling(text: str) -> str:
    """'balanced accross gendre and expresions' -> 'balanced across gender and expressions'.

    Only words of five letters or more that are not vocabulary words, one slip (a letter
    missing, doubled or two swapped, the first letter kept: 'lasses' is no 'glasses') from
    exactly one vocabulary or request word.
    """

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        low = word.lower()
        if len(low) < 5 or low in _KNOWN:
            return word
        near = {  # a plural is not a slip, and a slip seldom hits the first letter
            w for w in _one_edit(low) & _KNOWN
            if w.rstrip("s") != low.rstrip("s") and w[0] == low[0]
        }
        stems = {w.removesuffix("es").rstrip("s") for w in near}
        if len(stems) != 1:
            return word
        plural = low.endswith("s")
        return sorted(near, key=lambda w: (w.endswith("s") != plural, len(w)))[0]

    return re.sub(r"[A-Za-z]+", fix, text)
