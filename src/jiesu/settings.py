"""Operational settings, read once from the environment (JIESU_*)."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIESU_", extra="ignore")

    database_url: str = "sqlite:///./jiesu.db"
    # The city's zone: working days and business hours are counted here (DESIGN §4).
    timezone: str = "Asia/Shanghai"
    token_ttl_hours: int = 12
    # Login throttling (jiesu.auth.limits): failures in the window lock for lockout minutes.
    login_max_failures: int = 5
    login_max_failures_per_client: int = 20
    login_window_minutes: int = 15
    login_lockout_minutes: int = 15
    # Largest request body the API accepts (bytes); bigger ones get 413 before parsing.
    max_body_bytes: int = 1_000_000
    page_size_max: int = 200
    # At most this many API registrations that arrive together are stored in one transaction
    # (cases/registrar.py); 1 stores each on its own.
    register_group_max: int = 32
    # Under load, how long the registrar waits for more registrations to join a group: long
    # enough for those already on their way (the answers of the group before bring the next
    # requests back within about a millisecond), no longer (bench/serve/groups.py, 20 s runs
    # alternating: 1 ms gave ~15 % more registrations/s than 5; bench/serve/RESULTS.md).
    register_linger_ms: float = 1.0
    # `jiesu jobs retention`: citizens' names and phones of cases finished longer ago are
    # anonymised (3 years by default; the centre's records policy decides).
    retention_days: int = 1095
    # Notifications out (jiesu.notify): empty host / url means that channel is off.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "12345@localhost"
    sms_url: str = ""
    sms_template: str = "【12345】{text}"
    notify_max_attempts: int = 5
    notify_backoff_seconds: int = 60
    # The analytics lake (Parquet, DESIGN §8) and the Spark cluster that may read it.
    lake_dir: str = "./var/lake"
    spark_master: str = "local[2]"
    # The live triage model (`jiesu model use` copies one here; the server reloads it on change).
    model_dir: str = "./var/model"
    # uvicorn's log level for `jiesu serve`.
    log_level: str = "info"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
