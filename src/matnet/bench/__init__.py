"""The benchmark harness: workloads, the book's own code as the 1x, the speed report.

Used by ``matnet bench``, the pytest-benchmark suite in ``benchmarks/`` and the CI gate, so the
three always measure the same things.
"""
