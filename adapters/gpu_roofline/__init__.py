"""GPU compute model: roofline on peak FLOP/s and HBM bandwidth with measured efficiencies."""
