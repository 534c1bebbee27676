"""The pytest-benchmark suite (a package, so that its modules import ``benchmarks.suite``)."""
