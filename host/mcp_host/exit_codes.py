"""The exit codes of ``mcp-host``, the same for every command."""

EXIT_OK = 0
EXIT_FAILURE = 1
"""The host could not do its job: a plugin failed under --strict, the address is taken."""
EXIT_USAGE = 2
"""A mistake in the command line or the config."""
