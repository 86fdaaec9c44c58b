"""Importers pause Python's cyclic garbage collector (bench/intake) and must give it back."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from jiesu.importers.common import collector_paused


@pytest.fixture
def collector() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


@collector_paused()
def _fails() -> None:
    assert not gc.isenabled()
    raise ValueError("bad file")


def test_paused_inside_and_enabled_again_after_an_error(collector: None) -> None:
    gc.enable()
    with pytest.raises(ValueError):
        _fails()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector: None) -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
