"""The `authmcp` command line."""
