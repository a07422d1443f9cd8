"""Workload layer: layers read from workload files and the training loops that walk them."""
