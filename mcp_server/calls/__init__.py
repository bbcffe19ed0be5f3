"""One tool call, from who is calling to the result: identity, catalog, approval, the gate."""
