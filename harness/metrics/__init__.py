"""Metrics: SampleScores -> estimates with confidence intervals, overall and per group."""
