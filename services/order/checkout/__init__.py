"""Hosted checkout: sessions (a page that pays one order), their expiry timer, and what
the page may do on the customer's behalf."""
