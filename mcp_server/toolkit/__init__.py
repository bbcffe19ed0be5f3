"""What toolkit authors use: declarations, inputs and the HTTP layer every toolkit calls through."""
