"""How to reach each object store, decided once for every client.

Both clients we use, obstore (scans, warehouse writes) and pyarrow's
filesystems (Parquet datasets over a warehouse root), get their endpoint,
region, credentials and emulator settings from the per-scheme functions
here, so the two can never disagree about where a bucket is.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlparse

from iceberg_bioimage.errors import RemoteStoreError
from iceberg_bioimage.io.aws_profile import keys_from_environment, profile_name, shared_profile
from iceberg_bioimage.io.uri import AZURE_SCHEMES, scheme_of


@dataclass(frozen=True)
class RemoteOptions:
    """How to reach object stores: credentials come from the standard
    environment and config files unless ``anonymous``."""

    anonymous: bool = False
    endpoint_url: str | None = None
    region: str | None = None
    max_concurrency: int = 64
    max_retries: int = 5
    timeout_seconds: float = 30.0
    extra: dict[str, str] = field(default_factory=dict)


_defaults = RemoteOptions(
    endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
    region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None,
)


def configure_remote(**changes: Any) -> RemoteOptions:
    """Set process-wide defaults (the CLI's ``--anonymous`` / ``--endpoint-url``)."""
    global _defaults
    _defaults = replace(_defaults, **{k: v for k, v in changes.items() if v is not None})
    return _defaults


def remote_options() -> RemoteOptions:
    return _defaults


def use_remote_options(options: RemoteOptions) -> None:
    """Take another process's defaults whole (a spawned worker starts with
    the environment's, not what its parent configured)."""
    global _defaults
    _defaults = options


# -- S3 -------------------------------------------------------------------------
@dataclass(frozen=True)
class S3Settings:
    anonymous: bool
    endpoint_url: str | None
    region: str | None
    access_key_id: str | None = None  # only when taken from the shared AWS files
    secret_access_key: str | None = None
    session_token: str | None = None


def s3_settings(options: RemoteOptions) -> S3Settings:
    """Endpoint, region and (when the environment has none) the keys of the
    shared AWS profile. Anonymous access uses no profile."""
    if options.anonymous:
        return S3Settings(True, options.endpoint_url, options.region)
    profile = shared_profile()
    if profile is None:
        if os.environ.get("AWS_PROFILE"):
            raise RemoteStoreError(
                f"AWS profile '{profile_name()}' is not in the shared credentials or config file"
            )
        return S3Settings(False, options.endpoint_url, options.region)
    endpoint = options.endpoint_url or profile.endpoint_url
    region = options.region or profile.region
    if not profile.has_keys or keys_from_environment():
        return S3Settings(False, endpoint, region)
    return S3Settings(
        False,
        endpoint,
        region,
        profile.access_key_id,
        profile.secret_access_key,
        profile.session_token,
    )


# -- Google Cloud Storage -------------------------------------------------------
def gcs_emulator() -> str | None:
    """The GCS emulator's base URL from ``STORAGE_EMULATOR_HOST`` (the variable
    Google's own clients read), read at call time; ``None`` for real GCS."""
    host = os.environ.get("STORAGE_EMULATOR_HOST", "").strip().rstrip("/")
    if not host:
        return None
    return host if "://" in host else f"http://{host}"


def _emulator_service_account(base_url: str) -> str:
    """A service-account document that points obstore at an emulator and
    sends no OAuth tokens (so nothing asks a metadata server for them)."""
    return json.dumps(
        {
            "gcs_base_url": base_url,
            "disable_oauth": True,
            "client_email": "",
            "private_key": "",
            "private_key_id": "",
        }
    )


# -- Azure ----------------------------------------------------------------------
# Azurite's fixed development account, the same one obstore uses for the emulator.
_EMULATOR_ACCOUNT = "devstoreaccount1"
_EMULATOR_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@dataclass(frozen=True)
class AzureSettings:
    account: str
    account_key: str | None
    sas_token: str | None
    emulator: str | None  # Azurite's blob endpoint URL


def azure_settings(uri: str) -> AzureSettings:
    """The account and credentials obstore reads for Azure (``AZURE_STORAGE_*``)."""
    env = os.environ
    if env.get("AZURE_STORAGE_USE_EMULATOR", "").lower() in ("1", "true", "yes"):
        endpoint = env.get("AZURITE_BLOB_STORAGE_URL", "http://127.0.0.1:10000")
        return AzureSettings(_EMULATOR_ACCOUNT, _EMULATOR_KEY, None, endpoint)
    netloc = urlparse(uri).netloc
    account = (
        netloc.split("@", 1)[1].split(".", 1)[0]
        if "@" in netloc
        else env.get("AZURE_STORAGE_ACCOUNT_NAME") or env.get("AZURE_STORAGE_ACCOUNT")
    )
    if not account:
        raise RemoteStoreError(f"{uri}: set AZURE_STORAGE_ACCOUNT_NAME (or use container@account)")
    return AzureSettings(
        account,
        env.get("AZURE_STORAGE_ACCOUNT_KEY") or env.get("AZURE_STORAGE_KEY"),
        env.get("AZURE_STORAGE_SAS_TOKEN"),
        None,
    )


# -- the two clients --------------------------------------------------------------
def obstore_settings(scheme: str, options: RemoteOptions) -> tuple[str | None, dict[str, Any]]:
    """The endpoint (to allow plain HTTP for) and obstore's config for a bucket
    scheme; Azure is left to obstore, which reads the same variables."""
    config: dict[str, Any] = dict(options.extra)
    endpoint: str | None = None
    if scheme == "s3":
        s3 = s3_settings(options)
        endpoint = s3.endpoint_url
        if s3.access_key_id:
            config["access_key_id"] = s3.access_key_id
            config["secret_access_key"] = s3.secret_access_key
            if s3.session_token:
                config["session_token"] = s3.session_token
        if s3.endpoint_url:
            config["endpoint"] = s3.endpoint_url
        if s3.region:
            config["region"] = s3.region
    elif scheme in ("gs", "gcs"):
        endpoint = gcs_emulator()
        if endpoint:
            config["service_account_key"] = _emulator_service_account(endpoint)
    if options.anonymous:
        config["skip_signature"] = True
    return endpoint, config


def pyarrow_filesystem(uri: str) -> Any:
    """A pyarrow filesystem for an object-store URI, configured like our reads
    (endpoint, region, credentials, anonymous, emulators)."""
    from pyarrow import fs

    options = remote_options()
    scheme = scheme_of(uri) or "file"
    if scheme == "s3":
        s3 = s3_settings(options)
        kwargs: dict[str, Any] = {"anonymous": s3.anonymous}
        if s3.access_key_id:
            kwargs |= {
                "access_key": s3.access_key_id,
                "secret_key": s3.secret_access_key,
                "session_token": s3.session_token,
            }
        if s3.region:
            kwargs["region"] = s3.region
        if s3.endpoint_url:
            kwargs["scheme"] = "http" if s3.endpoint_url.startswith("http://") else "https"
            kwargs["endpoint_override"] = s3.endpoint_url.split("://", 1)[-1]
        return fs.S3FileSystem(**kwargs)
    if scheme in AZURE_SCHEMES:
        azure = azure_settings(uri)
        if azure.emulator:
            endpoint = urlparse(azure.emulator)
            return fs.AzureFileSystem(
                azure.account,
                account_key=azure.account_key,
                blob_storage_authority=endpoint.netloc,
                blob_storage_scheme=endpoint.scheme,
            )
        return fs.AzureFileSystem(
            azure.account, account_key=azure.account_key, sas_token=azure.sas_token
        )
    if scheme in ("gs", "gcs"):
        emulator = gcs_emulator()
        if emulator:  # unauthenticated, as emulators are
            endpoint = urlparse(emulator)
            return fs.GcsFileSystem(
                anonymous=True, scheme=endpoint.scheme, endpoint_override=endpoint.netloc
            )
        return fs.GcsFileSystem(anonymous=options.anonymous)
    filesystem, _ = fs.FileSystem.from_uri(uri)
    return filesystem
