from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mcp_server import ToolExecutionError, date_time, email_address, email_addresses, time_zone, whole_number


def test_an_address_is_stripped_and_kept() -> None:
    assert email_address("  ana@example.com ", name="recipient") == "ana@example.com"


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        pytest.param("", "is empty", id="empty"),
        pytest.param(None, "is empty", id="none"),
        pytest.param("ana at example.com", "is not an email address", id="no-at"),
        pytest.param("ana@example", "is not an email address", id="no-dot"),
        pytest.param("a@b.co, c@d.co", "is not an email address", id="two-addresses"),
        pytest.param("Ana <ana@example.com>", "is not an email address", id="display-name"),
    ],
)
def test_bad_addresses_name_the_field_and_show_a_good_one(value: object, phrase: str) -> None:
    with pytest.raises(ToolExecutionError) as info:
        email_address(value, name="recipient")
    assert phrase in str(info.value) and "recipient" in str(info.value) and "ana@example.com" in str(info.value)


def test_lists_drop_duplicates_in_any_case_and_refuse_a_bare_string() -> None:
    assert email_addresses(["a@x.io", "B@x.io", "A@X.IO", "b@x.io"], name="cc address") == ["a@x.io", "B@x.io"]
    assert email_addresses(None, name="cc address") == []
    with pytest.raises(ToolExecutionError, match="as a list of email addresses"):
        email_addresses("a@x.io", name="cc address")


@pytest.mark.parametrize("value", [0, 11, True, "3", 2.0, None])
def test_whole_numbers_outside_the_range_or_of_another_type_are_refused(value: object) -> None:
    with pytest.raises(ToolExecutionError, match="max_results must be a whole number from 1 to 10"):
        whole_number(value, name="max_results", maximum=10)


def test_a_whole_number_in_range_is_kept() -> None:
    assert whole_number(10, name="max_results", maximum=10) == 10
    assert whole_number(5, name="min_slot_minutes", minimum=5, maximum=1440) == 5


def test_a_time_with_an_offset_is_kept_and_local_time_takes_the_zone() -> None:
    assert date_time(" 2030-05-01T10:00:00Z ", name="start") == datetime(2030, 5, 1, 10, tzinfo=UTC)
    paris = date_time("2030-05-01T10:00:00", name="start", zone="Europe/Paris")
    assert paris.utcoffset() == timedelta(hours=2)
    assert date_time("2030-05-01T10:00:00-07:00", name="start", zone="Europe/Paris").utcoffset() == timedelta(hours=-7)


@pytest.mark.parametrize(
    ("value", "zone", "phrase"),
    [
        pytest.param("", None, "start is required", id="empty"),
        pytest.param(None, None, "start is required", id="none"),
        pytest.param("next tuesday", None, "is not an ISO 8601 time", id="words"),
        pytest.param("2030-05-01T10:00:00", None, "has no UTC offset", id="no-offset"),
        pytest.param("2030-05-01T10:00:00", "Pacific Standard Time", "not an IANA time zone", id="windows-zone"),
    ],
)
def test_bad_times_say_what_would_be_right(value: object, zone: str | None, phrase: str) -> None:
    with pytest.raises(ToolExecutionError, match=phrase):
        date_time(value, name="start", zone=zone)


def test_time_zones_are_iana_names() -> None:
    assert str(time_zone(" Europe/Paris ")) == "Europe/Paris"
    with pytest.raises(ToolExecutionError, match="timezone 'Mars/Olympus' is not an IANA time zone"):
        time_zone("Mars/Olympus")
