"""astra-cosim: the engine (workload and system layers) and the orchestration around it.

Layers, importing one way only: ``cli -> experiment -> workload -> system -> cosim.api``,
with ``engine`` (the event queue) beneath them all and ``output`` only reading results.
"""

__version__ = "0.1.0"
