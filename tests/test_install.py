"""The install a fresh machine gets is the one the tests passed with (Makefile + constraints)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_make_installs_under_the_constraints_file() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "pip install --quiet -c constraints.txt -e '.[test]'" in makefile
    assert re.search(r"^\$\(VENV\)/\.installed: .*constraints\.txt", makefile, re.M)
    assert re.search(r"^constraints:", makefile, re.M)  # re-pinned on purpose, by a target


def test_every_dependency_is_pinned_to_one_tested_version() -> None:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: '{line}' is not an exact pin"
            pins[_name(name)] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    assert not [r for r in wanted if _name(r) not in pins]
    assert "facetory" not in pins
