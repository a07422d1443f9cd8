"""System layer: collectives split into chunks (streams) and phases, per NPU (SEMANTICS §4)."""
