"""The answer-shaping helpers toolkits share: `iso_datetime` and `pick`."""

from __future__ import annotations

import pytest

from mcp_server import iso_datetime, pick


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("2011-01-26T19:01:12Z", "2011-01-26T19:01:12+00:00"),  # GitHub
        ("2024-05-01T09:30:00.000Z", "2024-05-01T09:30:00+00:00"),  # Linear, Drive
        ("2021-01-17T12:34:00.250+0000", "2021-01-17T12:34:00.250000+00:00"),  # Jira
        ("2030-05-01T10:00:00+02:00", "2030-05-01T10:00:00+02:00"),
    ],
)
def test_a_service_time_gets_an_explicit_offset(sent: str, shown: str) -> None:
    assert iso_datetime(sent) == shown


def test_whole_seconds_drops_the_fraction() -> None:
    assert iso_datetime("2021-03-28T20:48:29.832Z", whole_seconds=True) == "2021-03-28T20:48:29+00:00"
    assert iso_datetime("2021-03-28T20:48:29.832Z") == "2021-03-28T20:48:29.832000+00:00"


@pytest.mark.parametrize("value", [None, "", 0, 1717000000, ["2024-05-01"]])
def test_no_time_is_none(value: object) -> None:
    assert iso_datetime(value) is None


def test_text_that_is_not_a_time_comes_back_as_it_is() -> None:
    assert iso_datetime("next Tuesday") == "next Tuesday"


def test_pick_copies_the_named_fields_in_order() -> None:
    data = {"title": "Fix", "number": 7, "extra": True}
    picked = pick(data, "number", "title", "state")
    assert picked == {"number": 7, "title": "Fix", "state": None}
    assert list(picked) == ["number", "title", "state"]
    assert pick(data) == {}
