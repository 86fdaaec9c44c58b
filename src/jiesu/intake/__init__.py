"""Intake: every channel into one queue, without losing or doubling a request."""
