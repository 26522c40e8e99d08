"""`python -m agent` is the `facetory` command (the console script calls `main` here too).

Importing the CLI takes a second or two (torch, langgraph, scipy), and a Ctrl-C may come in
that time: `main` catches it around the import as well, so an interrupted start is one line
and exit code 2 (not a KeyboardInterrupt traceback), like any other failure to start.
"""

from __future__ import annotations

import sys

from agent.wording import INTERRUPTED


def main() -> None:
    try:
        from agent.cli.app import main as cli_main

        cli_main()
    except KeyboardInterrupt:
        sys.stderr.write(f"error: {INTERRUPTED}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
