"""The demo: fictional patients and requests loaded on top of the reference network."""
