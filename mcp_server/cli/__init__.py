"""The `authmcp` command line."""

from mcp_server._lazy_imports import install

install()  # before any command's module imports SQLAlchemy: a start does not import its ORM
