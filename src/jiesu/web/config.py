"""Settings of the web consoles, read once from the environment (JIESU_*)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIESU_", extra="ignore")

    # Behind https the session cookie must carry Secure; plain http in the demo cannot.
    cookie_secure: bool = False
    session_ttl_hours: int = 12
    # Citizens' photos land here under random names; never inside the static folder.
    data_dir: Path = Path("./var/data")
    photo_max_bytes: int = 5 * 1024 * 1024
    # Citizen tracker: failed "case number + phone digits" guesses allowed in the window,
    # per client address and per case number (the second stops a spread-out attack on one case).
    # Counted in the database (jiesu.web.ratelimit): the limits hold across workers and hosts.
    track_limit_per_ip: int = 20
    track_limit_per_case: int = 5
    track_window_seconds: int = 600
    # Citizen page: requests one client address may submit in the window. Generous, because
    # a mobile carrier puts many phones behind one address; a script filing cases is stopped.
    submit_limit_per_ip: int = 20
    submit_window_seconds: int = 3600
