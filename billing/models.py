"""Models of the billing app (later issues)."""
