"""`events.jsonl`: what happened during a build, one JSON object a line.

Appends are line-sized and flushed at once; a line cut short by a kill is skipped on read, and
a stray byte that is not UTF-8 reads as U+FFFD.
Listeners (the terminal's progress display) see each event as it is written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class EventLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.listeners: list[Callable[[dict[str, Any]], None]] = []

    def emit(self, kind: str, **data: Any) -> None:
        event = {"t": round(time.time(), 3), "event": kind, **data}
        line = json.dumps(event, default=str)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        for listener in self.listeners:
            listener(event)

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        events = []
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # the tail of a line cut short by a kill
        return events
