"""Triage: propose category, request type, urgency, place, unit and duplicates for a request."""

from __future__ import annotations

from pathlib import Path

from jiesu.settings import get_settings


def live_model_dir() -> Path:
    return Path(get_settings().model_dir)
