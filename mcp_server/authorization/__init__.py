"""Whether a user may run a tool now, and getting them there: connections, flows, verification."""
