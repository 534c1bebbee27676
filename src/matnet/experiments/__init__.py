"""The book's experiments: the chapter-1 results table and the non-network baselines."""
