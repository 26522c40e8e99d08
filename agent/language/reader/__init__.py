"""The offline reader: plain English -> DatasetSpec, with no model and no network.

`words` knows the vocabulary's phrases and how numbers are written, `reader` marks what each
part of a request asks for in a `Draft`, and `draft` settles the counts into spec data.
"""

from __future__ import annotations

from pydantic import ValidationError

from agent.language.reader.draft import build
from agent.language.reader.reader import Reader
from agent.language.spec import DatasetSpec, SpecError, validation_message


def parse_offline(text: str) -> DatasetSpec:
    """The rule-based reader: plain English -> DatasetSpec, or a SpecError naming the words."""
    data = build(Reader(text).run())
    try:
        return DatasetSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(validation_message(exc)) from None
