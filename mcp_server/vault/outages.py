"""Database errors that pass: a lock held by another process, a full disk, a read-only file, a server away.

`translate_outages` wraps every public method of a class (`translated`, one function) so that such an error
leaves it as `StorageUnavailable` (retryable, a short message naming the condition) instead of a driver exception
that a front door would report as an internal error. Anything else (a constraint violation, a bug) goes through
unchanged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import exc as sa_exc

from mcp_server.errors import StorageUnavailable

__all__ = ["describe_outage", "translate_outages", "translated"]

C = TypeVar("C", bound=type)
P = ParamSpec("P")
T = TypeVar("T")

# PostgreSQL SQLSTATE classes of conditions that pass: connection (08), resources (53), operator action (57),
# transaction rollback (40: serialization, deadlock), and a read-only transaction (25006)
_PG_TRANSIENT = ("08", "53", "57", "40", "25006")


def describe_outage(exc: BaseException) -> str | None:
    """What a transient database failure is, in a few words; None if `exc` is not one."""
    if isinstance(exc, (sa_exc.DBAPIError)):
        orig = exc.orig
        code = str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")
        text = str(orig).lower()
        transient = (
            isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError))
            or exc.connection_invalidated
            or code.startswith(_PG_TRANSIENT)
            or isinstance(orig, (OSError, TimeoutError))
        )
        if not transient:
            return None
        if "locked" in text or "busy" in text or code.startswith("40"):
            return "busy (another process holds its write lock)"
        if "full" in text or code.startswith("53"):
            return "out of space"
        if "readonly" in text or "read-only" in text or code == "25006":
            return "read-only"
        return "unreachable"
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return "overloaded"
    if isinstance(exc, (OSError, TimeoutError)):  # a driver's own connect failure
        return "unreachable"
    return None


def translated(fn: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Decorator: the coroutine function raises `StorageUnavailable` for a transient outage."""

    @functools.wraps(fn)
    async def method(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except (sa_exc.SQLAlchemyError, OSError, TimeoutError) as exc:
            what = describe_outage(exc)
            if what is None:
                raise
            raise StorageUnavailable(f"authmcp's database is {what} right now") from None

    return method


def translate_outages(cls: C) -> C:
    """Class decorator: every public coroutine method raises `StorageUnavailable` for a transient outage."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_"):
            continue
        if isinstance(member, classmethod) and inspect.iscoroutinefunction(member.__func__):
            setattr(cls, name, classmethod(translated(member.__func__)))
        elif inspect.iscoroutinefunction(member):
            setattr(cls, name, translated(member))
    return cls
