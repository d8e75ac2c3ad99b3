"""Benchmarks (not tests): they print figures; see README "Benchmarks"."""
