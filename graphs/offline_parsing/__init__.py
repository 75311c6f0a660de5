"""Rule-based (offline) intent parsing, split into small modules with one job each.

- ``text``: normalisation (typos, polite prefixes) shared by every module.
- ``amounts``: money ("$4k", "USD 300", "€2,000"), rates ("$95/h") and malformed amounts.
- ``dates``: due dates, relative days and billing days, always relative to ``today``.
- ``names``: client names, contact names and e-mail addresses, with a personal-name blocklist.
- ``items``: invoice line items ("12 hours of logo work at $95/h").
- ``classify``: decides the intent kind and builds the typed intent.
- ``fields``: reads answers to clarifying questions (``parse_field``).
"""
