"""A small `make demo` as a person sees it in an 80-column terminal (a pseudo-terminal here):
what was understood first, an ETA while drawing and while training, none of ultralytics' own
lines, and the scores at the end."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

REQUEST = ("24 faces for a YOLO face detector, in two eyewear classes (none, glasses), "
           "12 per class. 128x128 images, procedural fault rate 0.1, seed 7.")
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ULTRALYTICS = ("Ultralytics", "GPU_mem", "box_loss", "params", "Optimizer", "AMP", "Epoch")


def in_a_terminal(args: list[str], columns: int = 80, timeout: int = 300) -> tuple[int, str]:
    """Run `args` on a pseudo-terminal `columns` wide; (exit code, everything it drew)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env,
                            close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=timeout), b"".join(chunks).decode("utf-8", "replace")


def screen_lines(drawn: str) -> list[str]:
    """Every line the terminal showed, redraws included, without colour or cursor codes."""
    return [line for line in re.split(r"\r\n|\r|\n", ESCAPES.sub("", drawn)) if line.strip()]


def test_a_small_demo_reads_well_in_an_80_column_terminal(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    code, drawn = in_a_terminal([sys.executable, "-m", "agent", "build", REQUEST, "--out",
                                 str(out), "--yes", "--offline", "--epochs", "2", "--imgsz", "64"])
    lines = screen_lines(drawn)

    assert code == 0, "\n".join(lines[-20:])
    assert lines[0].startswith("Here is what I understood: 24 images; 2 classes of 12")
    assert any(line.startswith("all classes") and "ETA" in line and "ETA --" not in line
               for line in lines)  # drawing: accepted per second so far over what is left
    assert any(line.startswith("training YOLO detect on") for line in lines)
    assert any(line.startswith("training ") and "1/2" in line and "ETA" in line
               and "ETA --" not in line for line in lines)  # seconds per epoch x epochs left
    assert [line for line in lines if any(word in line for word in ULTRALYTICS)] == []
    assert "Ultralytics" in (out / "train.log").read_text()  # where its output went
    wide = [line for line in lines if len(line) > 80]
    assert wide == []
    end = lines[lines.index(next(x for x in lines if x.strip() == "Build status")):]
    scores = [line.split() for line in end if re.match(r" ?(YOLO|Haar) on ", line)]
    assert [row[:3] for row in scores] == [  # real faces beside Haar, then the test split
        ["YOLO", "on", "real"], ["Haar", "on", "real"], ["YOLO", "on", "synthetic"]]
    assert re.search(r"\[\d\.\d+, \d\.\d+\]$", " ".join(scores[2]))  # with its interval
    assert "".join(line.strip() for line in end[-3:]).endswith(f"report:{out / 'report.html'}")
