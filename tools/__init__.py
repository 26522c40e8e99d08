"""facetory tools: everything that DOES (generate, critique, dedup, export, train, report)."""
