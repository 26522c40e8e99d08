"""The nodes of the build graph, one small module each; `agent.graph` wires them."""
