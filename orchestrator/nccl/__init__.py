"""nccl-tests mode: one collective timed over a range of sizes (``astra-cosim collective``)."""
