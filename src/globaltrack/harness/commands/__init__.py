"""One module per CLI subcommand; each registers itself with `globaltrack.harness.cli.register_command`."""
