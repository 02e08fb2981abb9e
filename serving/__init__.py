"""Composition layer: the `yuqing` command line and the BentoML service. Nothing imports it."""
