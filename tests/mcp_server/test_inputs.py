from __future__ import annotations

import pytest

from mcp_server import ToolExecutionError, email_address, email_addresses


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
