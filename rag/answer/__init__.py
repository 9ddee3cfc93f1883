"""Passages in, a cited answer out: extractive or generated, every citation checked."""
