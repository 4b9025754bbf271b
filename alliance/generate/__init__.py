"""Synthetic alliance bundles in the data contract's format, with known answers."""

from alliance.generate.bundle import Summary, generate_bundle, read_truth

__all__ = ["Summary", "generate_bundle", "read_truth"]
