"""Backends as adapters: network and compute simulators behind the engine's ports."""
