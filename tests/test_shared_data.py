"""The one gate for tests that read ../shared/data: skip on a clone without it, fail under CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared_data import shared_data


def test_absent_data_skips_with_the_path_it_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIESU_SHARED_DATA", str(tmp_path / "missing"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"missing/nyc311/x\.csv is absent"):
        shared_data("nyc311", "x.csv")


def test_absent_data_fails_under_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIESU_SHARED_DATA", str(tmp_path / "missing"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        shared_data("teddycup2020_c")


def test_present_data_is_returned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "nyc311").mkdir()
    monkeypatch.setenv("JIESU_SHARED_DATA", str(tmp_path))
    assert shared_data("nyc311") == tmp_path / "nyc311"
