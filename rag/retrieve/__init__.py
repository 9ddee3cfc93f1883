"""A query in, ranked passages out: retrievers, fusion, recency, near-duplicates."""
