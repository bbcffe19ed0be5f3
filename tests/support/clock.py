"""A clock the test moves by hand, for code that takes one (e.g. `JwtVerifier(clock=..., now=...)`): time-
dependent behaviour is tested by moving time, not by waiting for it."""

from __future__ import annotations


class Clock:
    """Time that stands still until the test moves it (`clock.now += seconds`)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now
