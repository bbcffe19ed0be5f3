"""Putting it together and running it: the runtime, stdio, the HTTP app, the shared pages port."""
