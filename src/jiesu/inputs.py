"""The base of every JSON body the API reads: a NUL character is refused by name.

PostgreSQL's text cannot hold U+0000 (SQLite's can), so a NUL in any field reached the database
as an error and answered 500 on one of them and 201 on the other; now it is a 422 that names
the field, on both."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, field_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


class Input(BaseModel):
    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("NUL characters (U+0000) are not allowed")
        return value
