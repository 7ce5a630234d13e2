"""Expectation vs reality: the log of what was expected against what happened, per project."""
