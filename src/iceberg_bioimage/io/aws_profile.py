"""S3 settings from the AWS shared files (``~/.aws/credentials``, ``~/.aws/config``).

obstore reads credentials from ``AWS_*`` variables, web identity and instance
metadata, but not from the shared files the AWS CLI writes; pyarrow's S3
filesystem does. So that both see the same profile, the static keys, region
and ``endpoint_url`` of the selected profile (``AWS_PROFILE``, else
``default``) are read here. Variables always win over the files. Profiles
without static keys (role or SSO) are left to the SDK chains.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class AwsProfile:
    name: str
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    region: str | None = None
    endpoint_url: str | None = None

    @property
    def has_keys(self) -> bool:
        return bool(self.access_key_id and self.secret_access_key)


def profile_name() -> str:
    return os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"


def shared_profile(name: str | None = None) -> AwsProfile | None:
    """The profile from the shared files, or ``None`` when neither file has it."""
    name = name or profile_name()
    credentials = _section(
        _read(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"), name
    )
    config = _section(
        _read(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config"),
        name if name == "default" else f"profile {name}",
    )
    if credentials is None and config is None:
        return None
    merged = {**(config or {}), **(credentials or {})}  # the credentials file wins
    return AwsProfile(
        name=name,
        access_key_id=merged.get("aws_access_key_id"),
        secret_access_key=merged.get("aws_secret_access_key"),
        session_token=merged.get("aws_session_token"),
        region=merged.get("region"),
        endpoint_url=merged.get("endpoint_url"),
    )


def keys_from_environment() -> bool:
    return bool(os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"))


def _read(path: str) -> configparser.ConfigParser | None:
    file = Path(path).expanduser()
    if not file.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(file, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError):
        return None  # an unreadable file is as good as none; the SDK chains remain
    return parser


def _section(parser: configparser.ConfigParser | None, name: str) -> dict[str, str] | None:
    if parser is None or not parser.has_section(name):
        return None
    return {key: value.strip() for key, value in parser.items(name) if value.strip()}
