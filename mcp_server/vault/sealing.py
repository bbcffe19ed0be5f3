"""Sealing: the associated data bound into every encrypted column, in one place.

Each sealed value is encrypted (AES-256-GCM, vault/keyring.py) with the table, the row's identity and the column
as associated data, so a value copied into another row or column does not decrypt. Key rotation re-encrypts
every column listed here (vault/rotation.py).
"""

from __future__ import annotations

__all__ = [
    "client_context",
    "connection_context",
    "digest_key_context",
    "flow_context",
    "request_context",
    "revocation_context",
    "secret_context",
]


def connection_context(user_id: str, provider_id: str, column: str) -> str:
    return f"connections|{user_id}|{provider_id}|{column}"


def revocation_context(revocation_id: str) -> str:
    return f"revocations|{revocation_id}|token"


def flow_context(flow_id: str, column: str = "code_verifier") -> str:
    return f"flows|{flow_id}|{column}"


def secret_context(user_id: str, name: str) -> str:
    return f"user_secrets|{user_id}|{name}|value"


def digest_key_context(purpose: str) -> str:
    return f"digest_key|{purpose}"


def client_context(client_id: str) -> str:
    return f"oauth_clients|{client_id}|client_secret"


def request_context(request_id: str) -> str:
    return f"front_door_requests|{request_id}|secrets"
