"""What the server tells its operators: the audit trail, traces, metrics and webhooks."""
