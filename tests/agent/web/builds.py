"""Small build directories for the web tests: planned in-process, or built by the real CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from agent.language.spec import DatasetSpec
from agent.planning.plan_file import write_plan, write_spec
from agent.planning.planner import make_plan
from tools.atomic import write_text

SPEC = {
    "name": "web",
    "classes": [
        {"name": "none", "quota": 6, "attributes": {"eyewear": "none"}},
        {"name": "sunglasses", "quota": 6, "attributes": {"eyewear": "sunglasses"}},
    ],
    "factors": [
        {"name": "gender", "balanced": True, "levels": [{"name": "female"}, {"name": "male"}]},
        {"name": "expression", "balanced": True,
         "levels": [{"name": "neutral"}, {"name": "smile"}]},
    ],
    "generation": {"fault_rate": 0.2},
    "budget": {"batch_size": 4},
    "image_size": 96,
    "seed": 4,
}
TRACE = """understood: Twelve faces, half with sunglasses, balanced by gender and expression.
requirements:
- {asked: half wear sunglasses, drawn_by: class quota, checked_by: eyewear check, flags: []}
- {asked: looks friendly, drawn_by: prompt, checked_by: "", flags: [not verified]}
"""


def planned(root: Path, *, trace: bool = False) -> Path:
    """A build directory as `facetory plan` leaves it (optionally with a requirement trace)."""
    spec = DatasetSpec.from_data(SPEC)
    root.mkdir(parents=True, exist_ok=True)
    write_text(root / "spec.txt", "twelve faces, half with sunglasses\n")
    write_spec(spec, root / "spec.yaml")
    write_plan(make_plan(spec), root / "plan.yaml")
    if trace:
        text = (root / "plan.yaml").read_text()
        # this trace replaces the one `write_plan` derives from the spec
        text = re.sub(r"\nunderstood: .*\n", "\n", text, count=1)
        text = re.sub(r"\nrequirements:\n(?:[- ].*\n)*", "\n", text, count=1)
        head, rest = text.split("\nsummary:", 1)
        write_text(root / "plan.yaml", head + "\n" + TRACE + "summary:" + rest)
        write_text(root / ".plan_base.yaml", (root / "plan.yaml").read_text())
    return root


def facetory(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def built(root: Path) -> Path:
    """A finished build (procedural, no training) made by the real CLI."""
    planned(root)
    assert facetory("approve", str(root)).returncode == 0
    result = facetory("run", str(root), "--no-train", "--offline")
    assert result.returncode == 0, result.stderr
    return root
