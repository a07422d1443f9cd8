"""The analytical network backends (congestion-unaware; ASTRA-sim 1.0 flavour first)."""
