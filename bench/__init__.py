"""Accord benchmarks: `make bench` (python -m bench)."""
