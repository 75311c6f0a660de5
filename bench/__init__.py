"""Benchmarks of coo, outside the product's packages: `coo bench`, `coo bench-slack` and
`coo bench-memory` (bot/cli.py) import them when the command runs.

bench may import bot, graphs, agents and store; nothing in them imports bench (import-linter,
pyproject.toml)."""
