"""Measuring retrieval, answers, citations and declining on eval sets."""
