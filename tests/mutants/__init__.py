"""Realistic wrong implementations of the exercises, one module per chapter."""
