"""The writer's journal in a warehouse root, kept through the store layer.

``.staging/<transaction>/plan.json``
    written before a transaction places its parts: the parts it moves in, the
    parts its manifest drops, and the digest of the manifest it commits. A
    crash at any point leaves a plan that tells the next writer whether the
    transaction committed (the manifest in place has that digest: its dropped
    parts are retired) or not (its placed parts are removed).
``.staging/retired.json``
    parts that a committed manifest no longer lists, with the time they were
    retired. Readers that read the old manifest may still open them, so they
    are deleted by the first write at least :data:`RETIRE_SECONDS` later.

The validator counts parts named here as pending, not as orphans, so a root
validates at every crash point (as its old state or its new one) and while
overwritten parts wait for deletion. Only table parts inside the root are ever
deleted (:func:`~.root.is_part_of`): a journal is as untrusted as a manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

from iceberg_bioimage.io import Store
from iceberg_bioimage.warehouse.root import is_part_of
from iceberg_bioimage.warehouse.spec import STAGING_DIR

PLAN_FILE = "plan.json"
RETIRED_KEY = f"{STAGING_DIR}/retired.json"
# Overwritten parts outlive their manifest by at least this long (seconds);
# ICEBERG_BIOIMAGE_RETIRE_SECONDS overrides.
RETIRE_SECONDS = 60.0
# A plan in an object-store root this old belongs to a writer that died
# (object-store writers take no lock, so younger plans may still be running).
STALE_PLAN_SECONDS = 3600.0


def digest(document: bytes) -> str:
    return hashlib.sha256(document).hexdigest()


def plan_key(transaction: str) -> str:
    return f"{STAGING_DIR}/{transaction}/{PLAN_FILE}"


def write_plan(
    store: Store, transaction: str, moves: list[str], deletes: list[str], manifest: bytes
) -> None:
    plan = {"moves": moves, "deletes": deletes, "manifest": digest(manifest), "at": time.time()}
    store.put(plan_key(transaction), json.dumps(plan).encode())


def plans(store: Store) -> dict[str, dict[str, Any]]:
    """Every transaction's plan in the root (a missing or broken one is empty)."""
    found = {}
    for transaction in store.list_dir(STAGING_DIR).dirs:
        raw = store.get_many([plan_key(transaction)])[0]
        try:
            plan = json.loads(raw) if raw else {}
        except ValueError:
            plan = {}
        found[transaction] = plan if isinstance(plan, dict) else {}
    return found


def plan_parts(plan: dict[str, Any], key: str) -> list[str]:
    """A plan's part paths that are table parts inside the root."""
    listed = plan.get(key)
    if not isinstance(listed, list):
        return []
    return [p for p in listed if isinstance(p, str) and _is_table_part(p)]


def retired(store: Store) -> dict[str, float]:
    """Retired parts and when they were retired."""
    raw = store.get_many([RETIRED_KEY])[0]
    try:
        listed = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(listed, dict):
        return {}
    return {
        p: float(t)
        for p, t in listed.items()
        if isinstance(p, str) and isinstance(t, (int, float)) and _is_table_part(p)
    }


def retire(store: Store, parts: list[str]) -> None:
    """Add parts a committed manifest dropped to the retired list."""
    if not parts:
        return
    listed = retired(store) | dict.fromkeys(parts, time.time())
    store.put(RETIRED_KEY, json.dumps(listed).encode())


def pending_parts(store: Store) -> set[str]:
    """Parts not in the manifest that the journal accounts for."""
    pending = set(retired(store))
    for plan in plans(store).values():
        pending.update(plan_parts(plan, "moves"), plan_parts(plan, "deletes"))
    return pending


def recover(
    store: Store, current: bytes | None, referenced: set[str], *, locked: bool
) -> list[str]:
    """Settle transactions a crash interrupted, then delete retired parts whose
    time is up. ``locked``: the caller holds the root's lock (local roots), so
    every plan is finished business; otherwise only stale plans are."""
    done = []
    now = time.time()
    for transaction, plan in plans(store).items():
        at = plan.get("at")
        if not locked and not (isinstance(at, (int, float)) and now - at > STALE_PLAN_SECONDS):
            continue
        if current is not None and plan.get("manifest") == digest(current):
            retire(store, [p for p in plan_parts(plan, "deletes") if p not in referenced])
            done.append(f"finished {transaction}")
        else:
            for part in plan_parts(plan, "moves"):
                if part not in referenced:
                    store.delete(part)
            done.append(f"rolled back {transaction}")
        store.delete(plan_key(transaction))
    _purge(store, referenced, now)
    return done


def _purge(store: Store, referenced: set[str], now: float) -> None:
    listed = retired(store)
    if not listed:
        return
    grace = float(os.environ.get("ICEBERG_BIOIMAGE_RETIRE_SECONDS", RETIRE_SECONDS))
    keep = {}
    for part, when in listed.items():
        if part in referenced:
            continue  # listed again by a later manifest: not ours to delete
        if now - when >= grace:
            store.delete(part)
        else:
            keep[part] = when
    if keep:
        store.put(RETIRED_KEY, json.dumps(keep).encode())
    else:
        store.delete(RETIRED_KEY)


def _is_table_part(path: str) -> bool:
    parts = path.split("/")
    return len(parts) >= 3 and is_part_of(path, f"{parts[0]}/{parts[1]}")
