"""migrator serve: an OpenAI-compatible server with both endpoints (bridge and offline model)."""
