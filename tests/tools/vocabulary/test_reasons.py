"""Reason codes and the words a person reads for them (tools/vocabulary/reasons.yaml)."""

from __future__ import annotations

from tools.critic.pipeline import EXTRA_REASONS
from tools.vocabulary import REASON_WORDS, REASONS, reason_words


def test_a_mismatch_names_its_factor_in_words() -> None:
    assert reason_words("attribute_mismatch:eyewear") == "eyewear not as planned"
    assert reason_words("attribute_mismatch:skin_tone") == "skin tone not as planned"
    assert reason_words("face_cut_off") == "face cut off by the frame"


def test_a_code_without_words_still_reads_as_words() -> None:
    assert reason_words("vlm_said_no") == "vlm said no"


def test_every_code_the_critic_emits_has_words_of_its_own() -> None:
    assert set(EXTRA_REASONS) <= set(REASONS) == set(REASON_WORDS)
    assert all(words and "_" not in words for words in REASON_WORDS.values())
