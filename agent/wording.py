"""How facetory says counts and a build's state, once, for the terminal and the web page."""

from __future__ import annotations

#: The words a build's state is said in, everywhere a person reads it.
NOT_STARTED, RUNNING, COMPLETE, INCOMPLETE = "not started", "running", "complete", "incomplete"

#: What a Ctrl-C ends with, whether it comes while the CLI loads or while it runs.
INTERRUPTED = (
    "interrupted (Ctrl-C): nothing was left half-written (every file is written atomically); "
    "run the command again to continue"
)


def plural(n: float, noun: str, many: str | None = None) -> str:
    """'1 class', '3 classes', '0.5 images', '1,200 images': the count and its noun."""
    number = f"{int(n):,}" if float(n).is_integer() else f"{n:,.3g}"
    if n == 1:
        return f"{number} {noun}"
    if many is None:
        many = noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{number} {many}"


def build_state(*, running: bool, attempts: int, accepted: int, target: int) -> str:
    """One of NOT_STARTED, RUNNING, COMPLETE, INCOMPLETE."""
    if running:
        return RUNNING
    if not attempts:
        return NOT_STARTED
    return COMPLETE if target and accepted >= target else INCOMPLETE


def within(images: float) -> str:
    """'on target' for 0, else 'within 1 image' / 'within 2 images' of the target."""
    return "exactly on target" if not images else f"within {plural(images, 'image')} of target"
