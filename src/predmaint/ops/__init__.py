"""Running the pieces: the DVC stage runner, the local multi-service stack, production replay and workspace reset."""
