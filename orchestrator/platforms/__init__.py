"""GPU platforms (DGX A100, DGX H100, ...) as data: the GPU, and the network as dimensions."""
