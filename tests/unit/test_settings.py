"""Operational settings are environment variables read once, in one place (settings.Settings)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jiesu.settings import Settings, get_settings
from jiesu.triage import live_model_dir

SRC = Path(__file__).resolve().parents[2] / "src" / "jiesu"


def test_model_dir_and_log_level_come_from_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIESU_MODEL_DIR", str(tmp_path / "live"))
    monkeypatch.setenv("JIESU_LOG_LEVEL", "warning")
    assert (Settings().model_dir, Settings().log_level) == (str(tmp_path / "live"), "warning")
    get_settings.cache_clear()
    try:
        assert live_model_dir() == tmp_path / "live"
    finally:
        get_settings.cache_clear()


def test_defaults_without_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JIESU_MODEL_DIR", raising=False)
    monkeypatch.delenv("JIESU_LOG_LEVEL", raising=False)
    assert (Settings().model_dir, Settings().log_level) == ("./var/model", "info")


def test_no_module_reads_a_setting_from_the_environment_itself() -> None:
    # os.environ passed whole to a child process (ops/backup.py's pg_dump) is not a setting.
    reads = re.compile(r"os\.environ\.get|os\.environ\[|getenv\(")
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.name != "settings.py" and reads.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
