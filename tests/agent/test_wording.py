"""Counts and states as facetory says them, on the terminal and the web page alike."""

from __future__ import annotations

from agent.wording import build_state, plural, within


def test_a_count_takes_the_noun_in_the_number_it_needs():
    assert plural(1, "class") == "1 class"
    assert plural(3, "class") == "3 classes"
    assert plural(1200, "image") == "1,200 images"
    assert plural(2.0, "image") == "2 images"
    assert plural(2, "person", "people") == "2 people"


def test_a_balance_of_zero_is_said_as_on_target():
    assert within(0.0) == "exactly on target"
    assert within(1.0) == "within 1 image of target"


def test_a_finished_build_short_of_target_is_incomplete_and_one_that_met_it_complete():
    assert build_state(running=False, attempts=0, accepted=0, target=10) == "not started"
    assert build_state(running=True, attempts=5, accepted=5, target=10) == "running"
    assert build_state(running=False, attempts=12, accepted=10, target=10) == "complete"
    assert build_state(running=False, attempts=12, accepted=7, target=10) == "incomplete"
