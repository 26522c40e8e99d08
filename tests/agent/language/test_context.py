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
