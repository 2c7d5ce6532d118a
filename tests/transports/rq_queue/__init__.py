"""Tests of the RQ transport's parts: dispatcher, safe job class, workers, failures, recovery."""
