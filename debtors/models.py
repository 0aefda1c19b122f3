"""Models of the debtors app (later issues)."""
