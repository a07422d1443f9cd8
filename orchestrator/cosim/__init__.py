"""Co-simulation: the engine's side of the adapter protocol (protos/cosim.proto)."""
