"""Workload generation: model descriptions (presets/) split by a parallelism recipe, timed
by a compute model, written as ASTRA-sim 1.0 workloads (``astra-cosim workload generate``)."""
