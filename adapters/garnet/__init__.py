"""The Garnet network adapter: gem5's cycle-level on-chip network (routers with virtual
channels, credit-based flow control, a router pipeline) as the third network model.

``model.py`` is the network model behind the adapter spec and runs gem5 as a child process;
``gem5_driver.py`` is the script gem5 runs; ``gem5_extras/`` is the SimObject compiled into gem5
(``scripts/build_garnet.sh``); ``plan.py`` turns the shared network configs into Garnet routers
and links; ``options.py`` declares ``network.options``; ``locate.py`` finds the build. Nothing
here needs gem5 at import time, so a missing build is reported only when the backend is used.
"""
