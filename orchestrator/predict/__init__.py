"""``astra-cosim predict``: iteration time, TFLOP/s per GPU and MFU of LLM training."""
