"""Correct implementations in other styles than the reference, and vacuous answers, per chapter."""
