"""Symmetry reduction: simulate one NPU of a symmetric run and derive the others.

See docs/design.md ("Symmetry reduction") for why the reduced run gives exactly the full run's
results, and ``eligibility.py`` for when it is used.
"""
