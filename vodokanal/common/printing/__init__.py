"""Printing: HTML templates to PDF (WeasyPrint), the form overlay that lays a form out once
and draws each document's fields over it, and the payment QR code of receipts and claims."""
