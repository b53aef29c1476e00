"""Scorers: Response + Variant -> SampleScore."""
