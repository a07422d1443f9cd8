"""Training loops, one per module, each registered under its workload header token."""
