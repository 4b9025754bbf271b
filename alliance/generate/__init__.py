"""Synthetic alliance bundles in the data contract's format, with known answers."""

from alliance.generate.bundle import Summary, read_truth
from alliance.generate.run import generate_bundle

__all__ = ["Summary", "generate_bundle", "read_truth"]
