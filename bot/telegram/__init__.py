"""Telegram: a python-telegram-bot Application (messages, inline-keyboard approvals) and sending."""
