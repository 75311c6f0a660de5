"""Slack: a Bolt app (events, buttons, the edit modal) and Block Kit rendering of coo's replies."""
