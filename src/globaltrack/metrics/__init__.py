"""Metrics: pure, vectorised numpy functions over one sequence plus combine steps; protocols per official toolkit."""
