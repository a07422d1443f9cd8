"""The ns-3 network adapter: ASTRA-sim's packet-level backend, as real ns-3 3.44 driven through
its Python bindings (``pip install astra-cosim[ns3]``).

``model.py`` is the network model behind the adapter spec; ``build.py`` turns a ``Topology``
(``topology.py`` from the analytical configs, ``topology_file.py`` from an ASTRA-sim ns-3
topology file) into ns-3 nodes, links and routes; ``flow_tracker.cpp`` is the per-packet C++
half of the TCP transport (flows, early arrival decisions, counters); ``roce.cpp``, built by
``roce_build.py``, is the RoCE transport's fabric, PFC and DCQCN (docs/roce.md);
``loader.py`` imports ns-3 once per process; ``options.py`` declares ``network.options``. Nothing here imports ns-3 at module level, so the
registry stays fast and a missing ns-3 is reported only when the backend is asked for.
"""
