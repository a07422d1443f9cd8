"""Collective algorithms: one NPU's part of one phase, registered under upstream's names."""
