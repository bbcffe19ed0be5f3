"""Exceptions raised by authmcp, as one tree that callers can catch at any level.

    AuthmcpError
    ├── ConfigError              the configuration is wrong; start-up refuses and says what to set
    │   ├── KeyringError         the encryption keys are missing or do not match the stored data
    │   └── ProviderNotConfigured   a tool needs a provider whose OAuth app is not configured here
    ├── DeclarationError         a toolkit declares a tool wrongly; loading refuses it
    ├── OAuthError               a provider answered an OAuth request with an error (RFC 6749 §5.2 code)
    ├── PagesUnavailable         the pages a link would lead to are held by a program that is not authmcp's
    ├── ProviderUnavailable      a provider could not be reached or timed out (never a revocation)
    ├── StorageUnavailable       the database is locked, full, read-only or unreachable: retry shortly
    │   └── ServerStopping       this process is shutting down (SIGTERM): the same call, retried, reaches another
    └── ToolExecutionError       an expected failure inside a tool; its message reaches the model
        ├── RetryableToolError   the same call may succeed later (rate limit, upstream outage)
        └── UpstreamError        a provider's API answered with an error status
            ├── UpstreamAuthError        401: the token was refused; the gate refreshes once and retries
            ├── UpstreamRateLimitError   429: retry after `retry_after` seconds (also a RetryableToolError)
            └── UpstreamServerError      5xx: the provider failed; retry later (also a RetryableToolError)

Messages never contain token or secret values, and never an upstream response body.
"""

from __future__ import annotations

__all__ = [
    "AuthmcpError",
    "ConfigError",
    "DeclarationError",
    "KeyringError",
    "OAuthError",
    "PagesUnavailable",
    "ProviderNotConfigured",
    "ProviderUnavailable",
    "RetryableToolError",
    "ServerStopping",
    "StorageUnavailable",
    "ToolExecutionError",
    "UpstreamAuthError",
    "UpstreamError",
    "UpstreamRateLimitError",
    "UpstreamServerError",
]


class AuthmcpError(Exception):
    """Root of every exception authmcp raises on purpose."""


class ConfigError(AuthmcpError):
    """The configuration cannot work; the message names the setting and the fix."""


class KeyringError(ConfigError):
    """The encryption keys are missing, malformed, or cannot decrypt the stored data."""


class ProviderNotConfigured(ConfigError):
    """A tool needs a provider whose OAuth app is not configured on this server."""


class DeclarationError(AuthmcpError):
    """A toolkit declares a tool that cannot be served; the message names toolkit, tool and problem."""


class OAuthError(AuthmcpError):
    """A provider refused an OAuth request (RFC 6749 §5.2).

    `error` is the RFC error code (`invalid_grant`, `invalid_client`, ...); `description` is ours, never the
    provider's free text, which may echo the code or token that was sent.
    """

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{description} ({error})")
        self.error = error
        self.description = description


class PagesUnavailable(AuthmcpError):
    """No link was handed out: the port of the authorization pages is held by a program that did not prove to be
    an authmcp on this data dir. The message names the port and what to do."""


class ProviderUnavailable(AuthmcpError):
    """A provider did not answer in time or answered with a server error."""


class StorageUnavailable(AuthmcpError):
    """The database cannot serve this request now (locked, full, read-only, unreachable); nothing was lost, and the
    same request may succeed in a moment. The message names the condition, never a query or a value."""


class ServerStopping(StorageUnavailable):
    """This process stops (SIGTERM) while the request waits on someone's consent: it answers at once, as
    retryable as a busy database, so the caller asks again (of a replica that stays, or of this one restarted)."""


class ToolExecutionError(AuthmcpError):
    """An expected failure inside a tool. The message is shown to the model: keep it useful and secret-free."""


class RetryableToolError(ToolExecutionError):
    """A failure that may go away if the same call is made again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamError(ToolExecutionError):
    """A provider's API answered with an error status."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class UpstreamAuthError(UpstreamError):
    """The provider's API refused the token (401). The gate refreshes the token once and retries the tool."""

    def __init__(self, message: str = "The provider refused the stored token.", *, status_code: int = 401) -> None:
        super().__init__(message, status_code=status_code)


class UpstreamRateLimitError(UpstreamError, RetryableToolError):
    """The provider's API is rate limiting this user (429)."""

    def __init__(self, message: str, *, retry_after: float | None = None, status_code: int = 429) -> None:
        UpstreamError.__init__(self, message, status_code=status_code)
        self.retry_after = retry_after


class UpstreamServerError(UpstreamError, RetryableToolError):
    """The provider's API failed (5xx); the same call may succeed later."""

    def __init__(self, message: str, *, status_code: int = 502, retry_after: float | None = None) -> None:
        UpstreamError.__init__(self, message, status_code=status_code)
        self.retry_after = retry_after
