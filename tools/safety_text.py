"""Text as the safety check reads it: one spelling for the many ways of writing a word.

A list of words is only as good as its matching: "Blood-soaked", "blood_soaked", "b l o o d",
"ｂｌｏｏｄ", "blооd" with Cyrillic o's, "blo\u200bod" with a zero-width space and "bl00d" must
all read as "blood", and "bruises", "bruised" and "bruising" as one word, or the check
depends on spelling. `normalise` folds the characters, `tokens` splits the words and `stem`
folds their inflections; `tools.safety` matches its lists on the result.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters that look like Latin ones (Cyrillic, Greek, IPA); NFKC leaves them as they are.
_CONFUSABLES = str.maketrans(
    {
        pair[0]: pair[1]
        for pair in str.split(
            "аa вb гr дd еe ёe һh іi јj кk ӏl мm нh оo пn рp сc ѕs тt уy хx ԁd ԛq ԝw ьb ъb "
            "Аa Вb Еe Ѕs Іi Јj Кk Мm Нh Оo Рp Сc Тt Уy Хx "
            "αa βb γy δd εe ζz ηn ιi κk νv οo ρp τt υu χx ωw ϲc ϳj "
            "Αa Βb Εe Ζz Ηh Ιi Κk Μm Νn Οo Ρp Τt Υy Χx "
            "ɑa ɡg ɩi ɪi ʟl ɴn ʀr ꜱs ʏy ᴀa ʙb ᴄc ᴅd ᴇe ɢg ʜh ᴊj ᴋk ᴍm ᴏo ᴘp ᴛt ᴜu ᴠv ᴡw ᴢz"
        )
    }
)
# Digits and signs written for letters inside a word ("bl00d", "s3xy", "p@nties").
_LEET = str.maketrans("013457$@!|", "oieastsaii")
# Characters that join the parts of a compound: replaced by a space ("blood-soaked").
_JOINERS = re.compile(r"[-_/\\|~+*=·•\u2010-\u2015\u2212]+")
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`]s\b|['\u2018\u2019\u02bc`]")
# Three or more single letters spaced out ("b l o o d", "b.l.o.o.d") make one word.
_SPACED = re.compile(r"(?<![a-z0-9])(?:[a-z][ .]){2,}[a-z](?![a-z0-9])")
# a word of letters with digits or signs among them (not a number alone, not a plain word)
_MIXED = re.compile(
    r"(?<![a-z0-9$@!|])(?=[a-z0-9$@!|]*[a-z])(?=[a-z0-9$@!|]*[0-9$@!|])[a-z0-9$@!|]+"
)

# Plurals and forms that no suffix rule folds.
_IRREGULAR = {
    "children": "child", "childs": "child", "people": "person", "women": "woman",
    "men": "man", "teeth": "tooth", "feet": "foot", "knives": "knife", "lives": "life",
    "wives": "wife", "mice": "mouse", "geese": "goose", "bled": "bleed", "beaten": "beat",
    "hurt": "hurt", "kids": "kid", "kiddies": "kid",
}


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Lower-case ASCII-folded text: NFKC, look-alike letters folded, format characters
    (zero-width spaces, soft hyphens) and accents removed, joiners turned into spaces,
    spaced-out letters joined, whitespace collapsed."""
    text = text or ""
    if not text.isascii():  # ASCII text is its own NFKC form with nothing to fold
        text = unicodedata.normalize("NFKC", text)
        text = "".join(c for c in text if unicodedata.category(c) != "Cf")
        text = unicodedata.normalize("NFKD", text.translate(_CONFUSABLES))
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower()
    text = _APOSTROPHES.sub("", _JOINERS.sub(" ", text))
    text = _SPACED.sub(lambda m: re.sub(r"[ .]", "", m.group()), text)
    return re.sub(r"\s+", " ", text).strip()


def unleet(text: str) -> str:
    """`text` (normalised) with digits and signs inside words read as letters; the same
    length, so positions found in one hold in the other. Numbers alone stay numbers."""
    return _MIXED.sub(lambda m: m.group().translate(_LEET), text)


def tokens(text: str) -> list[str]:
    """The words of `text` (normalised), in order."""
    return re.findall(r"[a-z0-9]+", unleet(normalise(text)))


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """One form for a word's inflections: plural, -ed, -ing and a final e folded
    ("bruises", "bruised", "bruising" -> "bruis"; "glasses" -> "glass")."""
    word = _IRREGULAR.get(word, word)
    if word.isdigit() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "shes", "ches", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "ls":
                word = word[:-1]  # "cutting" -> "cut", but "dressed" -> "dress"
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word
