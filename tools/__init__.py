"""facetory tools: everything that DOES (generate, augment, critique, embed, dedup, export, train, report)."""
