"""Design-space sweeps: one experiment, many variants, each run once and kept on disk.

``spec`` reads a sweep file and expands its axes into points; ``config`` turns a point into a
trial's self-contained experiment document and its key; ``trial`` runs one trial (the function
every executor ships to its workers); ``local`` and ``ray_executor`` are the two executors;
``store`` keeps one JSON file per trial so a rerun resumes; ``table`` writes the results table
and plot; ``runner`` ties them together for ``astra-cosim sweep``.
"""
