"""The offline reader: plain English -> DatasetSpec, never silently dropping a requirement."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.language.parse import load_spec_source, parse_spec
from agent.language.spec import DatasetSpec, SpecError

SPECS = Path(__file__).resolve().parents[3] / "specs"


def parse(text: str) -> DatasetSpec:
    return parse_spec(text, offline=True)


def levels(spec: DatasetSpec, name: str) -> dict[str, float]:
    factor = spec.factor(name)
    assert factor is not None, f"no factor {name} in {[f.name for f in spec.factors]}"
    return factor.targets()


def example(name: str) -> DatasetSpec:
    return load_spec_source(str(SPECS / f"{name}.txt"), offline=True)[1]


def test_quickstart_is_three_eyewear_classes_balanced_across_five_factors():
    s = example("quickstart")
    assert [(c.name, c.quota, c.attributes) for c in s.classes] == [
        ("none", 100, {"eyewear": "none"}),
        ("glasses", 100, {"eyewear": "glasses"}),
        ("sunglasses", 100, {"eyewear": "sunglasses"}),
    ]
    assert [f.name for f in s.factors] == [
        "skin_tone", "age_group", "gender", "expression", "head_pose"
    ]  # fmt: skip
    assert all(f.balanced for f in s.factors) and len(s.factor("skin_tone").levels) == 10
    assert (s.task, s.image_size, s.seed, s.generation.fault_rate) == ("detect", 256, 7, 0.1)


def test_child_ethnicity_has_childdiffusions_five_classes_of_children():
    s = example("child_ethnicity")
    assert [c.quota for c in s.classes] == [500] * 5
    assert [c.attributes["ethnicity"] for c in s.classes] == [
        "african", "asian", "white", "south_asian", "hispanic"
    ]  # fmt: skip
    assert s.classes[3].name == "South Asian/Indian" and s.classes[3].slug == "south_asian_indian"
    assert s.subject == "children"
    age = s.factor("age")
    assert (age.numeric.low, age.numeric.high) == (4, 12)
    assert {d["age_group"] for d in age.derived().values()} == {"child"}
    assert levels(s, "eyewear") == pytest.approx({"glasses": 0.2, "none": 0.8})
    assert s.task == "detect" and s.image_size == 512


def test_age_progression_shows_every_person_at_every_age():
    s = example("age_progression")
    assert (s.identities.count, s.identities.images_per_identity) == (200, 6)
    assert s.factor("age_group").scope == "image" and len(s.factor("age_group").levels) == 6
    assert s.factor("gender").scope == "identity" and s.factor("skin_tone").scope == "identity"


def test_face_recognition_identities_follow_a_demographic_target():
    s = example("face_recognition_identities")
    assert (s.identities.count, s.identities.images_per_identity, s.total) == (500, 20, 10_000)
    assert levels(s, "ethnicity") == pytest.approx(
        {"white": 0.3, "african": 0.2, "asian": 0.2, "south_asian": 0.15, "hispanic": 0.15}
    )
    assert s.factor("ethnicity").scope == "identity" and s.factor("age_group").scope == "identity"
    assert s.factor("age_group").level_names() == ["young_adult", "middle_aged", "elderly"]
    assert s.factor("eyewear").level_names() == ["none", "glasses", "sunglasses"]
    assert s.factor("hat").level_names() == ["none", "hat"] and s.factor("hat").scope == "image"
    assert s.splits.shares() == pytest.approx({"train": 0.7, "val": 0.15, "test": 0.15})
    assert s.quality.duplicate_similarity == 0.9


def test_an_identity_set_fixes_each_persons_hair_colour_as_factors_yaml_says():
    s = parse("20 people with 5 images each, balanced across gender and hair colour; "
              "expression varies")
    scopes = {f.name: f.scope for f in s.factors}
    assert scopes == {"gender": "identity", "hair_color": "identity", "expression": "image"}


def test_audit_grid_is_every_combination_with_the_rest_held_fixed():
    s = example("audit_grid")
    assert s.total == 1000
    assert [len(s.factor(f).levels) for f in ("gender", "ethnicity", "age_group")] == [2, 5, 4]
    for name, level in [
        ("expression", "neutral"),
        ("head_pose", "frontal"),
        ("background", "plain"),
    ]:
        assert s.factor(name).level_names() == [level]


def test_crowd_detection_has_faces_per_image_shares_and_a_constraint():
    s = example("crowd_detection")
    assert s.faces_per_image == (1, 4) and s.image_size == 640 and s.seed == 3
    assert levels(s, "mask") == pytest.approx({"mask": 0.25, "none": 0.75})
    assert levels(s, "eyes") == pytest.approx({"closed": 0.2, "open": 0.8})
    assert [c.model_dump() for c in s.constraints] == [
        {"when": {"eyes": "closed"}, "forbid": {"eyewear": ["sunglasses"]}}
    ]


def test_every_example_spec_parses():
    names = sorted(p.stem for p in SPECS.glob("*.txt"))
    assert len(names) >= 6
    for name in names:
        assert example(name).total > 0


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("2,500 faces", lambda s: s.total == 2500),
        ("two hundred faces", lambda s: s.total == 200),
        ("1.5k faces", lambda s: s.total == 1500),
        (
            "300 faces, 30% smiling",
            lambda s: levels(s, "expression") == {"smile": 0.3, "neutral": 0.7},
        ),
        (
            "300 faces, 60% female",
            lambda s: levels(s, "gender") == pytest.approx({"female": 0.6, "male": 0.4}),
        ),
        ("100 faces in 2 classes: alpha, beta", lambda s: [c.quota for c in s.classes] == [50, 50]),
        ("classes: a (30), b (70)", lambda s: [c.quota for c in s.classes] == [30, 70]),
        ("200 people, 10 images each", lambda s: (s.identities.count, s.total) == (200, 2000)),
        (
            "20 identities with 5 photos per identity",
            lambda s: s.identities.images_per_identity == 5,
        ),
        ("300 faces, 2 faces per image", lambda s: s.faces_per_image == 2),
        ("300 faces, several children in one frame", lambda s: s.faces_per_image == (2, 4)),
        ("300 faces, 70/20/10 split", lambda s: s.splits.val == pytest.approx(0.2)),
        ("300 faces, train/val/test 60/20/20", lambda s: s.splits.train == pytest.approx(0.6)),
        (
            "classify gender, 100 faces",
            lambda s: ([c.name for c in s.classes], s.task) == (["female", "male"], "classify"),
        ),
        ("300 faces at 128 px, seed 42", lambda s: (s.image_size, s.seed) == (128, 42)),
        (
            "300 faces, budget of 4x, batch size 32",
            lambda s: (s.budget.max_attempts_factor, s.budget.batch_size) == (4, 32),
        ),
        (
            "300 faces using diffusers model runwayml/stable-diffusion-v1-5 with 20 steps",
            lambda s: (
                (s.generation.backend, s.generation.model, s.generation.steps)
                == ("diffusers", "runwayml/stable-diffusion-v1-5", 20)
            ),
        ),
        (
            "300 adult faces",
            lambda s: (
                s.factor("age_group").level_names()
                == ["young_adult", "middle_aged", "elderly", "old"]
            ),
        ),
        (
            "300 faces aged 10 to 35",  # cut at the age groups' bounds (15 and 30)
            lambda s: s.factor("age").level_names() == ["10-14", "15-29", "30-35"],
        ),
        (
            "300 faces, minimum critic score 0.7, duplicates above 0.9",
            lambda s: (s.quality.min_critic_score, s.quality.duplicate_similarity) == (0.7, 0.9),
        ),
    ],
)
def test_phrases(text, check):
    assert check(parse(text))


@pytest.mark.parametrize(
    ("text", "factor"),
    [
        ("30 faces without sunglasses", "eyewear"),
        ("30 faces, no sunglasses", "eyewear"),
        ("30 faces, nobody wears glasses", "eyewear"),
        ("30 faces, not wearing sunglasses", "eyewear"),
        ("30 faces, no one wears a hat", "hat"),
        ("30 faces, none of them wear masks", "mask"),
    ],
)
def test_an_excluded_accessory_is_left_off_every_face_not_put_on_it(text, factor):
    # read word by word these asked for the accessory they exclude (found by a new user)
    assert levels(parse(text), factor) == {"none": 1.0}


def test_later_statements_win_so_feedback_can_revise_offline():
    s = parse("300 faces, 20% wear glasses.\nMake it 600 faces and 30% wear glasses.")
    assert s.total == 600 and levels(s, "eyewear") == pytest.approx({"glasses": 0.3, "none": 0.7})


def test_yaml_spec_text_is_read_as_a_spec():
    s = parse("name: tiny\nclasses:\n  - {name: a, quota: 3}\n")
    assert (s.name, s.total) == ("tiny", 3)


def test_load_spec_source_reads_files_and_words(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("40 faces balanced across gender\n")
    text, s = load_spec_source(str(path), offline=True)
    assert text.startswith("40 faces") and s.total == 40
    yaml_path = tmp_path / "spec.yaml"
    yaml_path.write_text(s.to_yaml())
    assert load_spec_source(str(yaml_path), offline=True)[1] == s
    assert load_spec_source("12 faces", offline=True)[1].total == 12
    with pytest.raises(SpecError, match="no such file"):
        load_spec_source(str(tmp_path / "missing.txt"), offline=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "description is empty"),
        ("   \n", "description is empty"),
        (
            "300 faces with purple unicorns",
            "could not place these words offline: 'purple unicorns'",
        ),
        ("300 faces, lighting", "'lighting'"),
        ("300 faces, 60% wear glasses and 50% wear sunglasses", "110%"),
        ("0 faces", "at least 1"),
        ("300 faces, -5 per class", "must be positive"),
        ("20,000,000 faces", "over the limit of 10,000,000"),
        ("ten billion faces", "10,000,000,000 images is over the limit"),  # was read as 10
        ("3 trillion faces", "3,000,000,000,000 images is over the limit"),
        ("300 faces, segment the hair", "unknown task 'segment'"),
        ("300 faces, 640x480 images", "not square"),
        ("300 faces, 20% of the time", "cannot tell what"),
        ("300 faces, no sunglasses with eyes closed, 30% wear sunglasses", "names eyes"),
        ("300 faces in 3 classes: a, b", "3 classes announced but 2 listed"),
        ("300 faces in eyewear classes: none, monocles", "'monocles' is not a level of eyewear"),
        ("200 people, 10 images each, 300 images", "200 people x 10 images = 2000"),
        ("sexy kids, 300 faces", "refused"),
    ],
)
def test_bad_requests_fail_with_one_line(text, message):
    with pytest.raises(SpecError) as err:
        parse(text)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_yaml_spec_with_a_syntax_error_names_the_line_and_is_not_read_as_english(tmp_path):
    broken = "name: tiny\nclasses:\n  - {name: a, quota: 3\n  - {name: b, quota: 3}\n"
    with pytest.raises(SpecError, match=r"YAML spec: not valid YAML: line \d+"):
        parse(broken)
    path = tmp_path / "spec.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(SpecError, match="line 2"):
        load_spec_source(str(path), offline=True)


def test_the_llm_instructions_carry_every_level_and_its_synonyms():
    from agent.language.parse import vocab_text

    text = vocab_text()
    assert "eyewear (eyewear;" in text and "sunglasses: sunglasses, sun glasses, shades" in text
    assert "neutral: neutral, neutral expression" in text and "not smiling" in text


def test_twice_as_many_of_one_class_as_the_other_sets_their_quotas() -> None:
    spec = parse_spec("Twice as many unmasked as masked faces, 900 in total; classes masked and "
                      "unmasked.", offline=True)
    assert {c.name: c.quota for c in spec.classes} == {"masked": 300, "unmasked": 600}


def test_a_class_list_ends_before_its_ratio() -> None:
    spec = parse_spec("1000 images, classes happy and sad at 3:1", offline=True)
    assert {c.name: c.quota for c in spec.classes} == {"happy": 750, "sad": 250}


def test_thousands_grouped_with_a_space_are_one_number() -> None:
    spec = parse_spec("A verification set of 12 000 images over 600 persons.", offline=True)
    assert (spec.total, spec.identities.count) == (12000, 600)


def test_everything_else_gives_the_rest_of_that_factor_to_one_level() -> None:
    spec = parse_spec("3000 faces -- blue eyes 20%, green eyes 10%, everything else brown",
                      offline=True)
    assert spec.factor("eye_color").targets() == pytest.approx(
        {"blue": 0.2, "green": 0.1, "brown": 0.7})
    assert spec.factor("hair_color") is None


def test_a_fraction_before_a_level_is_its_share() -> None:
    spec = parse_spec("let's say 3,000 faces, 1/3 child, 1/3 teenager, 1/3 elderly", offline=True)
    counts: dict[str, int] = {}
    for c in spec.classes:
        counts[c.attributes.get("age_group", "?")] = c.quota
    assert counts == {"child": 1000, "teenager": 1000, "elderly": 1000}


def test_a_class_said_to_take_the_remainder_gets_what_the_others_leave() -> None:
    spec = parse_spec("classes: masked 70%, unmasked the remainder; 2000 images", offline=True)
    assert {c.name: c.quota for c in spec.classes} == {"masked": 1400, "unmasked": 600}



@pytest.mark.parametrize(
    ("text", "shares"),
    [
        ("twelve faces, half with sunglasses\n30% wear hats",
         {"eyewear": {"sunglasses": 0.5}, "hat": {"hat": 0.3}}),
        ("forty faces, a quarter smiling\n50% wear glasses",
         {"expression": {"smile": 0.25}, "eyewear": {"glasses": 0.5}}),
        ("twenty faces, 20% with hats\n\n  40% wear glasses",
         {"hat": {"hat": 0.2}, "eyewear": {"glasses": 0.4}}),
    ],
)
def test_a_line_that_starts_with_a_share_is_not_the_share_of_the_line_before(
    text: str, shares: dict[str, dict[str, float]]
) -> None:
    # feedback is joined to the request with a newline ('review --feedback', the web form)
    spec = parse(text)
    for name, wanted in shares.items():
        got = levels(spec, name)
        assert {k: got[k] for k in wanted} == pytest.approx(wanted), (name, got)


def test_words_are_read_with_the_chat_model_the_command_opened(monkeypatch):
    """A build opens its chat model once (from the environment) and the parse node passes it
    on: with none opened, the offline reader reads, whatever the environment says now."""
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    spec = parse_spec("40 faces in two classes: glasses and none", llm=None)
    assert spec.total == 40 and [c.name for c in spec.classes] == ["glasses", "none"]


@pytest.mark.parametrize("text", ["200 faces in two classes: glasses and none",
                                  "classes: none, glasses and sunglasses, 300 faces"])
def test_a_class_called_none_beside_worn_levels_is_that_factor_left_off(text):
    spec = parse(text)
    assert spec.class_spec("none").attributes == {"eyewear": "none"}
    assert spec.class_spec("glasses").attributes == {"eyewear": "glasses"}


def test_a_count_of_images_with_a_level_is_that_levels_share_of_the_total() -> None:
    from tests.agent.language.test_reader_corpus import factor_problems

    spec = parse_spec("1000 faces, 250 with sunglasses", offline=True)
    assert spec.total == 1000
    assert factor_problems(spec, "eyewear", {"sunglasses": 0.25, "none": 0.75}) == []
    spec = parse_spec("Give me 700 faces with blue eyes and 300 with brown eyes.", offline=True)
    assert spec.total == 1000
    assert factor_problems(spec, "eye_color", {"blue": 0.7, "brown": 0.3}) == []


def test_a_ratio_of_levels_gives_their_shares() -> None:
    from tests.agent.language.test_reader_corpus import factor_problems

    spec = parse_spec("Make 1200 faces. Men and women 2:1.", offline=True)
    assert factor_problems(spec, "gender", {"male": 2 / 3, "female": 1 / 3}) == []
    spec = parse_spec("smiling to neutral 4:1, 1000 faces", offline=True)
    assert factor_problems(spec, "expression", {"smile": 0.8, "neutral": 0.2}) == []


def test_a_count_that_should_have_a_level_is_its_share() -> None:
    from tests.agent.language.test_reader_corpus import factor_problems

    spec = parse_spec("Of 600 faces, 120 should have their eyes closed.", offline=True)
    assert factor_problems(spec, "eyes", {"closed": 0.2, "open": 0.8}) == []


def test_split_counts_said_without_a_total_add_up_to_it() -> None:
    spec = parse_spec("train 800 / val 100 / test 100, faces with hats", offline=True)
    assert spec.total == 1000
    assert (spec.splits.train, spec.splits.val, spec.splits.test) == (0.8, 0.1, 0.1)


def test_a_test_count_held_out_of_a_total_leaves_the_rest_to_train() -> None:
    spec = parse_spec("make 2000 images, hold out 500 for testing", offline=True)
    assert spec.splits.test == 0.25
    assert spec.splits.train + spec.splits.val == 0.75 and spec.splits.val <= 0.1


def test_the_rest_without_the_takes_the_factors_remainder() -> None:
    from tests.agent.language.test_reader_corpus import factor_problems

    spec = parse_spec("1000 faces; redheads 10%, blondes 30%, rest brown hair", offline=True)
    assert factor_problems(spec, "hair_color", {"red": 0.1, "blond": 0.3, "brown": 0.6}) == []


def test_no_men_is_women_and_nobody_with_eyes_closed_is_eyes_open() -> None:
    from tests.agent.language.test_reader_corpus import factor_problems

    assert factor_problems(parse_spec("600 faces, no men", offline=True), "gender",
                           ["female"]) == []
    spec = parse_spec("500 faces, nobody with their eyes closed", offline=True)
    assert factor_problems(spec, "eyes", ["open"]) == []


def test_a_negated_level_of_a_factor_with_many_levels_is_asked_about() -> None:
    with pytest.raises(SpecError, match="'no kids' - said without it"):
        parse_spec("900 images - no kids please", offline=True)


def test_a_request_that_starts_with_a_tilde_is_words_not_a_home_directory() -> None:
    text, _ = load_spec_source("~800 faces, roughly half wearing hats", offline=True)
    assert text.startswith("~800")
