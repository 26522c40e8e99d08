"""The words around levels the accounting also explains (agent.language.context)."""

from __future__ import annotations

import pytest

from agent.language.accounting import Question
from agent.language.parse import parse_spec


def test_a_share_of_one_age_group_asks_where_the_rest_goes_instead_of_spreading_it() -> None:
    with pytest.raises(Question, match="other 67% of age group: spread over teenager"):
        parse_spec("600 faces, a third are kids", offline=True)


def test_a_share_of_a_level_with_one_other_level_or_a_none_level_plans_the_rest() -> None:
    spec = parse_spec("600 faces, 30% women, 20% with glasses", offline=True)
    assert spec.factor("gender").targets() == pytest.approx({"female": 0.3, "male": 0.7})
    assert spec.factor("eyewear").targets()["none"] == pytest.approx(0.8)


@pytest.mark.parametrize("text", ["1000 faces, 60% smiling, 30% neutral",
                                  "1000 faces: 70% indoor, 20% outdoor"])
def test_what_the_shares_of_several_levels_leave_is_asked_about_not_spread(text: str) -> None:
    with pytest.raises(Question, match="the other 10% of .*: spread over"):
        parse_spec(text, offline=True)


def test_what_one_levels_share_leaves_still_goes_to_the_factors_rest_level() -> None:
    spec = parse_spec("500 faces, 40% smiling", offline=True)
    assert spec.factor("expression").targets() == {"smile": 0.4, "neutral": 0.6}
