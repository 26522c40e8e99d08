"""facetory agent: everything that DECIDES (spec, parsing, planning, the graph, the CLI)."""

__version__ = "0.1.0"
