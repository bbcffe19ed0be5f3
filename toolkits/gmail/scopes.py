"""The Gmail OAuth scopes the tools ask for, each the narrowest that Gmail v1's discovery document lists for
the methods a tool calls."""

READONLY = "https://www.googleapis.com/auth/gmail.readonly"
SEND = "https://www.googleapis.com/auth/gmail.send"
COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
MODIFY = "https://www.googleapis.com/auth/gmail.modify"
LABELS = "https://www.googleapis.com/auth/gmail.labels"
