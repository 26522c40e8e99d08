"""Text as the safety check reads it: one spelling for the many ways of writing a word."""

from __future__ import annotations

import pytest

from tools.safety_text import normalise, stem, tokens


@pytest.mark.parametrize(
    "written",
    [
        "blood soaked",
        "Blood-Soaked",
        "blood_soaked",
        "blood/soaked",
        "blood\u2013soaked",
        "BLOOD   soaked",
        "\uff42\uff4c\uff4f\uff4f\uff44 soaked",  # full-width letters
        "bl\u043e\u043ed soaked",  # Cyrillic o's
        "blo\u200bod soaked",  # a zero-width space
        "bl\u00f3od soaked",  # an accent
        "b l o o d soaked",
        "b.l.o.o.d soaked",
        "blo\u00adod soaked",  # a soft hyphen
    ],
)
def test_every_spelling_of_a_compound_reads_as_its_plain_words(written: str) -> None:
    assert normalise(written) == "blood soaked"


def test_digits_for_letters_are_read_as_letters_inside_words_only() -> None:
    assert tokens("bl00d, s3xy, aged 12, 512 px") == ["blood", "sexy", "aged", "12", "512", "px"]


def test_possessives_and_apostrophes_do_not_split_a_word() -> None:
    assert tokens("a child's face, don't") == ["a", "child", "face", "dont"]


@pytest.mark.parametrize(
    ("forms", "one"),
    [
        (("bruise", "bruises", "bruised", "bruising"), "bruis"),
        (("classroom", "classrooms"), "classroom"),
        (("cut", "cuts", "cutting"), "cut"),
        (("child", "children"), "child"),
        (("glasses",), "glass"),
        (("dressed", "dress"), "dress"),
    ],
)
def test_inflections_fold_to_one_form(forms: tuple[str, ...], one: str) -> None:
    assert {stem(f) for f in forms} == {one}
