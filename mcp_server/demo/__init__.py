"""`authmcp demo`: authmcp with a local OAuth 2.0 provider and a one-tool toolkit, no account anywhere.

- `authserver`: a strict OAuth 2.0 authorization server in one file (PKCE required, rotating refresh tokens,
  RFC 9207 `iss`, revocation, userinfo); the demo's provider, and the provider of authmcp's own tests.
- `toolkit`: `Demo.WhoAmI`, which asks the provider who the user is with the user's token.
- `walkthrough`: the command itself.
"""
