"""The bottom layer: what every app uses and no app owns. The portal's clock, money rounding,
Russian text (plurals, dates, amounts in words), calendar months, the law's citations, safe
CSV and JSON, and printing (HTML to PDF, the form overlay, the payment QR code).

Nothing here imports an app (accounts, meters, billing, debtors): import-linter checks it
(pyproject.toml)."""
