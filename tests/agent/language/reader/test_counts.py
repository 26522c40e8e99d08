"""How the offline reader reads counts (agent.language.reader.counts)."""

from __future__ import annotations

from agent.language.reader import parse_offline


def test_a_count_after_x_at_the_end_is_how_many_images_of_what_was_described() -> None:
    spec = parse_offline("faces of middle aged women with long hair x 350")
    assert spec.total == 350
    assert spec.factor("gender").targets() == {"female": 1.0}
