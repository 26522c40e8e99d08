"""`python -m agent` is the `facetory` command."""

from agent.cli import main

main()
