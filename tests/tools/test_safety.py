"""The prompt safety check: what may never reach a generator, and what ordinary face-dataset
wording must always get through."""

from __future__ import annotations

import pytest

from agent.planning.diffusion_prompts import build_prompt
from tests.tools.safety_corpus import corpus
from tools.contracts import PlanItem
from tools.safety import (
    UnsafePrompt,
    check_items,
    check_prompt,
    mentions_minors,
    prompt_problems,
    suggestion_problems,
)

CHILD = {"age_group": "child", "gender": "female"}


@pytest.mark.parametrize(
    "prompt",
    [
        "portrait photo of an injured, bruised child",
        "a girl with welts, cuts and a split lip",
        "a boy, with bruises and a bloody nose, crying in pain",
        "a 9-year-old, emaciated and neglected, in squalor",
        "a twelve year old holding a knife",
        "children tied up and gagged",
        "a teenage girl in lingerie",
        "a toddler, terrified, cowering",
        "kids with a black eye and a broken nose",
        "a child, no nudity, with blood on the face",
        "a 10 yo boy, shirtless and sexy",
        "A CHILD, BRUISED AND BLEEDING",
    ],
)
def test_harm_or_sexualisation_of_minors_is_refused(prompt: str) -> None:
    with pytest.raises(UnsafePrompt, match="^refused: a prompt: facetory does not plan"):
        check_prompt(prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "portrait photo of a girl with a sad expression",
        "surprised children, head shots",
        "a boy with red hair, shot at 512 px",
        "children with a fearful expression, dead centre framing, dead-centre crop",
        "a child, short pixie cut, soft light, whole head inside the frame",
        "a teenager with a crew cut, brown hair, plain studio background",
        "a boy with an angry expression, eyes closed, wearing a hat",
        "a girl in a classroom, school uniform, in the park, autumn afternoon",
    ],
)
def test_ordinary_face_dataset_wording_for_minors_is_not_refused(prompt: str) -> None:
    check_prompt(prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "an adult with shoulder blades visible, burnt orange background",
        "a man, no blood, no injuries, no nudity",
        "a woman in a sun-kissed meadow, blood-red scarf",
    ],
)
def test_ordinary_wording_for_adults_is_not_refused(prompt: str) -> None:
    check_prompt(prompt)


@pytest.mark.parametrize(
    ("prompt", "word"),
    [
        ("a child in a meadow with a kite", "kite"),
        ("children, no blood, no injuries", "blood"),
        ("a girl, without bruises", "bruises"),
        ("a boy, no nudity", "nudity"),
        ("a boy holding a lollipop", "lollipop"),
    ],
)
def test_a_word_nobody_reviewed_refuses_a_prompt_for_minors_naming_it(
    prompt: str, word: str
) -> None:
    with pytest.raises(UnsafePrompt) as refused:
        check_prompt(prompt)
    assert str(refused.value) == (
        f"refused: a prompt: '{word}' is not a reviewed word for images of minors; "
        "add it to tools/vocabulary/safe_words.yaml after review"
    )


def test_a_negation_covers_only_the_term_right_after_it() -> None:
    assert suggestion_problems("no blood, without any visible bruises") == []
    assert suggestion_problems("no nudity, bruises and welts") == ["bruises", "welts"]
    assert suggestion_problems("no nudity or violence") == ["violence"]
    assert suggestion_problems("not without blood") == ["blood"]


def test_every_template_prompt_of_every_level_passes_for_children() -> None:
    """The template's own words never trip the check, whatever the levels."""
    from tools.vocabulary import FACTORS

    for factor, levels in FACTORS.items():
        for level in levels:
            attributes = {**CHILD, factor: level}
            prompt, negative = build_prompt(attributes, description="a class of kids")
            assert prompt_problems(prompt, negative, attributes) == [], (factor, level)


def test_harm_to_adults_is_not_this_checks_business_but_always_terms_are() -> None:
    check_prompt("an adult man with a bruised face, boxing")
    with pytest.raises(UnsafePrompt, match="lolicon"):
        check_prompt("lolicon style portrait")


def test_the_items_age_group_puts_minors_in_the_picture() -> None:
    assert prompt_problems("a person with welts", "", {"age_group": "adult"}) == []
    assert prompt_problems("a person with welts", "", CHILD) == ["welts"]
    assert prompt_problems("a person with welts", "", {"age": "8"}) == ["welts"]


def test_a_negative_prompt_may_forbid_harm_but_not_clothing_or_adulthood() -> None:
    assert prompt_problems("a girl", "nsfw, nudity, blood, bruises", CHILD) == []
    assert prompt_problems("a girl", "clothes, shirt", CHILD) == ["avoid clothes", "avoid shirt"]
    assert prompt_problems("a person, bruised", "adult, grown-up") == ["bruised", "grown"]


def test_ages_in_words_and_numbers() -> None:
    assert mentions_minors("a twelve-year-old")
    assert mentions_minors("aged 8 to 12")
    assert mentions_minors("a 15 yo")
    assert not mentions_minors("aged 30, shot at 512 px, 1024 x 1024")
    assert not mentions_minors("a 35-year-old woman")


def test_llm_suggestions_may_carry_no_harm_words_at_all() -> None:
    assert suggestion_problems("studio lighting, tack sharp", "smudge") == []
    assert suggestion_problems("with bruises and a bloody nose, crying in pain") == [
        "bruises", "bloody", "crying in pain"
    ]
    assert suggestion_problems("soft light", "clothing, adults") == [
        "avoid clothing", "avoid adults"
    ]


def test_check_items_names_the_first_unsafe_item() -> None:
    items = [
        PlanItem(id="k-0001", class_name="kids", attributes=CHILD, seed=1, prompt="a girl"),
        PlanItem(id="k-0002", class_name="kids", attributes=CHILD, seed=2,
                 prompt="a girl, beaten and bleeding"),
    ]
    with pytest.raises(UnsafePrompt, match=r"^refused: item k-0002: .*beaten, bleeding.*fix it$"):
        check_items(items, after="fix it")


# The generated corpus of variations (tests/tools/safety_corpus.py) on the tools' paths: an
# item's prompt at the generator's door and the words an LLM suggests.
CORPUS = corpus()


def test_the_corpus_is_large_and_varied() -> None:
    assert len(CORPUS) > 1500
    assert len({kind for _, kind, _ in CORPUS}) >= 18


def test_every_variation_in_a_childs_prompt_is_refused_at_the_generators_door() -> None:
    items = [
        PlanItem(id=f"k-{i}", class_name="kids", attributes=CHILD, seed=i,
                 prompt=f"portrait photo of a girl, {phrase}")
        for i, (_, _, phrase) in enumerate(CORPUS)
    ]
    passed = []
    for item in items:
        try:
            check_items([item])
        except UnsafePrompt:
            continue
        passed.append(item.prompt)
    assert passed == []


def test_every_variation_is_refused_in_an_llms_words_for_minors_and_for_adults() -> None:
    for _, kind, phrase in CORPUS:
        assert suggestion_problems(phrase, minors=True), (kind, phrase)
        assert suggestion_problems(phrase), (kind, phrase)


def test_a_variation_in_a_negative_prompt_is_protective_but_a_new_word_is_not() -> None:
    assert prompt_problems("a girl", "Blood, b r u i s e s, n\u00fadity", CHILD) == []
    assert prompt_problems("a girl", "blurry, kite", CHILD) == ["kite"]


@pytest.fixture()
def safe_words(tmp_path, monkeypatch):
    """A copy of safe_words.yaml the test may extend; the compiled lists are read again."""
    import tools.safety as safety

    path = tmp_path / "safe_words.yaml"
    path.write_text(safety.SAFE_WORDS.read_text(encoding="utf-8"), encoding="utf-8")
    caches = (safety.vocabulary, safety._prompt_problems, safety._masked_text,
              safety._unreviewed, safety._hits_of)
    for cache in caches:
        cache.cache_clear()
    monkeypatch.setattr(safety, "SAFE_WORDS", path)
    yield path
    for cache in caches:
        cache.cache_clear()


def test_a_word_added_to_the_reviewed_list_is_allowed_in_all_its_forms(safe_words) -> None:
    assert prompt_problems("a girl holding kites", "", CHILD) == ["kites"]
    safe_words.write_text(safe_words.read_text() + "  - kite\n")
    import tools.safety as safety

    for cache in (safety.vocabulary, safety._prompt_problems, safety._unreviewed):
        cache.cache_clear()
    assert prompt_problems("a girl holding kites", "", CHILD) == []
    assert prompt_problems("a girl holding a Kite", "", CHILD) == []


def test_a_refused_term_cannot_be_made_a_reviewed_word(safe_words) -> None:
    safe_words.write_text(safe_words.read_text() + "  - blood-soaked\n")
    with pytest.raises(ValueError, match="'blood' is a refused term"):
        prompt_problems("a girl", "", CHILD)


def test_an_item_left_without_a_prompt_is_checked_by_the_words_its_default_prompt_uses() -> None:
    blank = PlanItem(id="k-1", class_name="kites", attributes=CHILD, seed=1, prompt="")
    with pytest.raises(UnsafePrompt, match="'kites' is not a reviewed word"):
        check_items([blank])
    check_items([blank.model_copy(update={"class_name": "glasses"})])
