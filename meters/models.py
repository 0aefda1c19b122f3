"""Models of the meters app (later issues)."""
