"""Profiles: named connections (address and credentials) in one JSON file.

The file is ``<XDG config dir>/msgfy/config.json`` (``MSGFY_CONFIG`` overrides the path),
written with mode 0600 because it holds API keys and refresh tokens. The profile used is
``--profile``, else ``MSGFY_PROFILE``, else the file's ``default``. Environment variables
override what a profile says: ``LINKTOR_ADDRESS``, ``LINKTOR_API_KEY``, ``LINKTOR_TENANT``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import platformdirs

from linktor.sdk import Linktor
from linktor.sdk.credentials import ApiKey, RefreshToken, Tokens


@dataclass
class Profile:
    address: str = ""
    api_key: str = ""
    refresh_token: str = ""
    email: str = ""
    tenant: str = ""


def config_path() -> Path:
    explicit = os.environ.get("MSGFY_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(platformdirs.user_config_dir("msgfy")) / "config.json"


def _load() -> dict[str, Any]:
    path = config_path()
    if not path.exists():
        return {"default": "default", "profiles": {}}
    data: dict[str, Any] = json.loads(path.read_text())
    data.setdefault("profiles", {})
    return data


def _store(data: dict[str, Any]) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n")
    temporary.chmod(0o600)
    temporary.replace(path)  # atomic: an interrupted write never loses the profiles


def profile_name(explicit: str | None) -> str:
    return explicit or os.environ.get("MSGFY_PROFILE") or str(_load().get("default", "default"))


def stored_profile(name: str) -> Profile:
    """The profile as the file has it (no environment overrides)."""
    stored = _load()["profiles"].get(name, {})
    return Profile(**{k: v for k, v in stored.items() if k in Profile.__dataclass_fields__})


def load_profile(name: str) -> Profile:
    """The profile with the environment's overrides applied."""
    profile = stored_profile(name)
    profile.address = os.environ.get("LINKTOR_ADDRESS") or profile.address
    profile.tenant = os.environ.get("LINKTOR_TENANT") or profile.tenant
    env_key = os.environ.get("LINKTOR_API_KEY")
    if env_key:
        profile.api_key, profile.refresh_token = env_key, ""
    return profile


def save_profile(name: str, profile: Profile, *, make_default: bool = False) -> None:
    data = _load()
    data["profiles"][name] = {k: v for k, v in asdict(profile).items() if v}
    if make_default or len(data["profiles"]) == 1:
        data["default"] = name
    _store(data)


def list_profiles() -> tuple[str, dict[str, Profile]]:
    data = _load()
    profiles = {n: Profile(**p) for n, p in data["profiles"].items()}
    return str(data.get("default", "")), profiles


class NotLoggedIn(Exception):
    """No credentials for the profile."""


def client_for(name: str, timeout: float) -> Linktor:
    """A client for a profile; a session's rotated refresh token is saved as it changes."""
    profile = load_profile(name)
    if profile.api_key:
        credentials: ApiKey | RefreshToken = ApiKey(profile.api_key)
    elif profile.refresh_token:
        credentials = RefreshToken(profile.refresh_token)
    else:
        raise NotLoggedIn(f"profile {name!r} has no credentials: run `msgfy login` first")

    def keep(tokens: Tokens) -> None:
        saved = stored_profile(name)
        saved.refresh_token = tokens.refresh_token
        save_profile(name, saved)

    return Linktor(
        credentials=credentials,
        address=profile.address or None,
        tenant=profile.tenant or None,
        timeout=timeout,
        on_tokens=keep if isinstance(credentials, RefreshToken) else None,
    )
