"""ns-3 tests share one process-wide import of the bindings (about 10 s); each test builds its
own network, which retires the previous one (adapters/ns3/model.py)."""

import pytest

from adapters.ns3.loader import ns3_available

requires_ns3 = pytest.mark.skipif(
    not ns3_available(),
    reason="ns-3's Python bindings are not installed (pip install astra-cosim[ns3]; CI installs "
           "them in .ci/steps/20-ns3.sh)")
