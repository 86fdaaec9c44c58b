"""Triage: propose category, request type, urgency, place, unit and duplicates for a request."""

from __future__ import annotations

import os
from pathlib import Path


def live_model_dir() -> Path:
    # Read at call time, not import time, so a test or `jiesu model use` sees the current value.
    return Path(os.environ.get("JIESU_MODEL_DIR", "./var/model"))
