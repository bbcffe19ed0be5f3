from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mcp_server.calls.catalog import load_catalog, pascal_case
from mcp_server.config import ProviderSettings
from mcp_server.errors import DeclarationError
from mcp_server.providers import ProviderRegistry

PROVIDERS = ProviderRegistry({"acme": ProviderSettings(authorize_url="https://a/x", token_url="https://a/t")})

HEADER = """
from typing import Annotated
from mcp_server import tool, ToolContext
from mcp_server.auth import Google, OAuth2, GitHub
"""


def toolkit(tmp_path: Path, body: str, name: str = "my_kit") -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(HEADER + textwrap.dedent(body))
    return str(path)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("list_emails", "ListEmails"), ("gmail", "Gmail"), ("google_drive", "GoogleDrive"), ("WhoAmI", "WhoAmI")],
)
def test_pascal_case(name: str, expected: str) -> None:
    assert pascal_case(name) == expected


def test_names_schema_and_requirements(tmp_path: Path) -> None:
    spec = toolkit(
        tmp_path,
        '''
        @tool(requires_auth=Google(scopes=["https://www.googleapis.com/auth/gmail.readonly"]))
        async def list_emails(context: ToolContext, n_emails: Annotated[int, "How many emails"] = 5) -> list[dict]:
            """List the user's most recent emails."""
            return []

        @tool(requires_secrets=["SERPAPI_KEY"])
        def search(query: str) -> str:
            """Search the web."""
            return query
    ''',
        name="gmail",
    )
    catalog = load_catalog([spec], PROVIDERS)
    emails = catalog.get("Gmail_ListEmails")
    assert emails is not None and catalog.get("Gmail.ListEmails") is emails
    assert emails.api_name == "Gmail.ListEmails" and emails.context_parameter == "context"
    assert emails.input_schema["properties"] == {
        "n_emails": {"default": 5, "description": "How many emails", "title": "N Emails", "type": "integer"}
    }
    assert emails.meta() == {
        "authmcp/requirements": {
            "authorization": {
                "provider_id": "google",
                "provider_type": "google",
                "scopes": ["https://www.googleapis.com/auth/gmail.readonly"],
            }
        }
    }
    search = catalog.get("Gmail.Search")
    assert search is not None and search.secrets == ("SERPAPI_KEY",) and search.context_parameter is None
    assert search.meta() == {"authmcp/requirements": {"secrets": ["SERPAPI_KEY"]}}
    assert search.input_schema["required"] == ["query"]


def test_toolkit_name_and_tool_name_overrides(tmp_path: Path) -> None:
    spec = toolkit(
        tmp_path,
        '''
        TOOLKIT_NAME = "Acme"
        @tool(name="Hello", requires_auth=OAuth2(id="acme", scopes=["profile"]))
        def greet() -> str:
            """Say hello."""
            return "hi"
    ''',
    )
    (definition,) = list(load_catalog([spec], PROVIDERS))
    assert definition.mcp_name == "Acme_Hello"
    assert definition.requirement is not None and definition.requirement.id == "acme"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param(
            '''
            @tool(requires_auth=OAuth2(id="nowhere", scopes=["x"]))
            def a() -> str:
                """Doc."""
            ''',
            "provider 'nowhere'",
            id="unknown-provider",
        ),
        pytest.param(
            """
            @tool
            def a() -> str:
                return ""
            """,
            "no description",
            id="missing-description",
        ),
        pytest.param(
            '''
            @tool
            def a() -> str:
                """One."""
            @tool(name="A")
            def b() -> str:
                """Two."""
            ''',
            "already has the name",
            id="duplicate-name",
        ),
        pytest.param(
            '''
            import socket
            @tool
            def a(sock: socket.socket) -> str:
                """Doc."""
            ''',
            "parameter 'sock' cannot be expressed",
            id="inexpressible-parameter",
        ),
        pytest.param(
            '''
            @tool
            def a(x) -> str:
                """Doc."""
            ''',
            "no type annotation",
            id="unannotated-parameter",
        ),
        pytest.param(
            '''
            @tool
            def a(*items: str) -> str:
                """Doc."""
            ''',
            "args",
            id="var-args",
        ),
        pytest.param(
            '''
            @tool(requires_secrets=["not a name"])
            def a() -> str:
                """Doc."""
            ''',
            "secret name",
            id="bad-secret-name",
        ),
        pytest.param(
            '''
            @tool(requires_auth=GitHub(id="acme", scopes=["repo"]))
            def a() -> str:
                """Doc."""
            ''',
            "type 'oauth2'",
            id="provider-type-mismatch",
        ),
        pytest.param(
            '''
            @tool(requires_auth=Google(scopes=["a b"]))
            def a() -> str:
                """Doc."""
            ''',
            "without spaces",
            id="scope-with-space",
        ),
    ],
)
def test_bad_declarations_are_refused_naming_toolkit_tool_and_problem(tmp_path: Path, body: str, problem: str) -> None:
    spec = toolkit(tmp_path, body)
    with pytest.raises(DeclarationError) as info:
        load_catalog([spec], PROVIDERS)
    message = str(info.value)
    assert "Toolkit 'MyKit'" in message and "tool 'A'" in message
    assert problem in message


def test_unimportable_toolkit_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match="cannot be imported"):
        load_catalog(["no_such_toolkit_module"], PROVIDERS)
    with pytest.raises(DeclarationError, match="no such file"):
        load_catalog([str(tmp_path / "missing.py")], PROVIDERS)
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(DeclarationError, match="failed while importing: RuntimeError"):
        load_catalog([str(broken)], PROVIDERS)


def test_scopes_given_as_a_string_are_refused_at_declaration() -> None:
    from mcp_server.auth import Google

    with pytest.raises(TypeError, match="list of strings"):
        Google(scopes="https://www.googleapis.com/auth/gmail.readonly")  # type: ignore[arg-type]


def test_a_second_app_of_a_catalogued_kind_is_its_own_provider(tmp_path: Path) -> None:
    providers = ProviderRegistry({"work-google": ProviderSettings(type="google", client_id="w", client_secret="s")})
    spec = toolkit(
        tmp_path,
        '''
        @tool(requires_auth=Google(id="work-google", scopes=["https://www.googleapis.com/auth/drive.readonly"]))
        def files() -> str:
            """List work files."""
            return ""
    ''',
    )
    (definition,) = list(load_catalog([spec], providers))
    assert definition.requirement is not None and definition.requirement.id == "work-google"
    work, personal = providers.get("work-google"), providers.get("google")
    assert work is not None and personal is not None
    assert work.token_url == personal.token_url and work.client_id == "w" and personal.client_id is None
    assert work.missing_settings() == [] and personal.missing_settings() == ["client_id", "client_secret"]


def test_annotations_are_validated_at_load_time(tmp_path: Path) -> None:
    spec = toolkit(
        tmp_path,
        '''
        @tool(title="Delete a file", destructive=True, idempotent=True)
        def delete_file(path: str) -> str:
            """Delete a file."""
            return path
    ''',
    )
    definition = load_catalog([spec], PROVIDERS).get("MyKit.DeleteFile")
    assert definition is not None and definition.title == "Delete a file"
    assert dict(definition.hints) == {"destructiveHint": True, "idempotentHint": True}


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ("read_only=True, destructive=True", "cannot be both read_only and destructive"),
        ('read_only="yes"', "read_only must be True or False"),
        ('title=""', "title must be a non-empty string"),
    ],
)
def test_contradictory_or_malformed_annotations_are_refused(tmp_path: Path, arguments: str, problem: str) -> None:
    spec = toolkit(
        tmp_path,
        f'''
        @tool({arguments})
        def odd() -> str:
            """An odd tool."""
            return ""
    ''',
    )
    with pytest.raises(DeclarationError, match=problem) as caught:
        load_catalog([spec], PROVIDERS)
    assert "'MyKit'" in str(caught.value) and "'Odd'" in str(caught.value)
