"""The book's experiments: the chapter-1 results table and the non-network baselines."""

MAX_RUNS = 100_000  # a sweep or reproduction of more runs is refused unless asked for (--max-runs)
