"""The nodes of the build graph, one small module each; `agent.build.graph` wires them."""
