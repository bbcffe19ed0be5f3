"""The scopes the GitHub tools ask for, and why.

Scopes (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps): GitHub has no
read-only scope for private repositories: `repo` grants full read and write access to them, and `public_repo`
is a write scope too. So:

- reads of public data declare no scope at all (any token may read public repositories, issues, pull requests,
  files and code); when the user's connection already carries `repo` (granted for another tool), the same tools
  see the user's private repositories as well, and their "not found" message says so when it does not;
- `ListRepositories` is about the user's own repositories, private ones included, so it needs `repo`;
- the writes (issues, comments, pull requests, reviews, branches, files) need `repo`: `public_repo` would fail
  on private repositories;
- starring needs only `public_repo` ("also required for starring public repositories", same page); a private
  repository can be starred only with `repo`, and GitHub answers 404 for it otherwise.

Annotations: reads are read-only and idempotent; writes that only add something (an issue, a comment, a review,
a branch, a pull request, a star) are not destructive; writes that overwrite or remove (editing or closing an
issue or pull request, merging, writing a file, unstarring) are. Every tool reaches GitHub: open world.
"""

from __future__ import annotations

from mcp_server.auth import GitHub

__all__ = ["PRIVATE_REPOS", "PUBLIC_READ", "PUBLIC_REPO_WRITE"]

PUBLIC_READ = GitHub(scopes=[])  # public data needs no scope; see above
PRIVATE_REPOS = GitHub(scopes=["repo"])  # the only scope that reaches private repositories (read and write)
PUBLIC_REPO_WRITE = GitHub(scopes=["public_repo"])  # starring public repositories
