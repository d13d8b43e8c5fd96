"""The harness: runner, parallel backends, frame prefetch, resume keys, timing and the CLI."""
