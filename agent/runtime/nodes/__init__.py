"""The nodes of the build graph, one small module each; `agent.runtime.graph` wires them."""
