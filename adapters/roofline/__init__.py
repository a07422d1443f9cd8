"""The roofline compute model: the embedded default compute backend."""
