"""Thumbnails: the lowest-resolution level of an image, read through the pixel
layer, channels composited with their OMERO colours (else the default palette:
one channel grey; several blue, green, red, magenta, cyan, yellow in order),
contrast from the OMERO window or else the 0.5-99.5 percentiles."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from iceberg_bioimage.pixels import array_source, open_array
from iceberg_bioimage.pixels.layout import tczyx

PALETTE = ((0, 0, 255), (0, 255, 0), (255, 0, 0), (255, 0, 255), (0, 255, 255), (255, 255, 0))
MAX_CHANNELS = 6
MAX_SIDE = 160
MAX_READ_BYTES = 64 * 2**20  # a lowest level larger than this gets no thumbnail


def thumbnail(row: dict[str, Any], backend: str = "auto") -> np.ndarray | None:
    """An (h, w, 3) uint8 RGB thumbnail of an ``image_assets`` row, or None when
    the image has no pixels to show (or its lowest level is too large)."""
    levels = row.get("levels") or [None]
    source = array_source(row, len(levels) - 1)
    planes = _plane_region(source)
    if planes is None:
        return None
    array = open_array(source, backend)
    try:
        data = tczyx(array.read(planes), source.axes)
    finally:
        array.close()
    channels = data[0, :MAX_CHANNELS, data.shape[2] // 2]  # (c, y, x): first t, middle z
    step = max(1, -(-max(channels.shape[1:]) // MAX_SIDE))
    channels = channels[:, ::step, ::step].astype(np.float32)
    colors, windows = _omero(row, channels.shape[0])
    rgb = np.zeros((*channels.shape[1:], 3), np.float32)
    for plane, color, window in zip(channels, colors, windows, strict=True):
        low, high = window or _percentiles(plane)
        scaled = np.clip((plane - low) / max(high - low, 1e-9), 0, 1)
        rgb += scaled[..., None] * (np.array(color, np.float32) / 255)
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def _plane_region(source: Any) -> tuple[slice, ...] | None:
    """First t, middle z, every channel (the first six), whole y and x."""
    region = []
    size = np.dtype(source.dtype).itemsize
    for axis, length in zip(source.axes, source.shape, strict=True):
        if axis == "t":
            region.append(slice(0, 1))
        elif axis == "z":
            region.append(slice(length // 2, length // 2 + 1))
        elif axis == "c":
            region.append(slice(0, min(length, MAX_CHANNELS)))
            size *= min(length, MAX_CHANNELS)
        elif axis in "yx":
            region.append(slice(None))
            size *= length
        else:
            return None
    if "y" not in source.axes or "x" not in source.axes or size > MAX_READ_BYTES:
        return None
    return tuple(region)


def _omero(row: dict[str, Any], count: int) -> tuple[list[tuple[int, int, int]], list[Any]]:
    try:
        omero = json.loads(row.get("metadata_json") or "{}").get("ome", {}).get("omero") or {}
    except (ValueError, AttributeError):
        omero = {}
    channels = omero.get("channels") if isinstance(omero, dict) else None
    channels = channels if isinstance(channels, list) else []
    default = [(255, 255, 255)] if count == 1 else list(PALETTE)
    colors, windows = [], []
    for index in range(count):
        given = (
            channels[index] if index < len(channels) and isinstance(channels[index], dict) else {}
        )
        colors.append(_rgb(given.get("color")) or default[index % len(default)])
        windows.append(_window(given.get("window")))
    return colors, windows


def _rgb(text: Any) -> tuple[int, int, int] | None:
    if not isinstance(text, str) or len(text) not in (6, 8):
        return None
    try:
        return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))
    except ValueError:
        return None


def _window(window: Any) -> tuple[float, float] | None:
    if not isinstance(window, dict):
        return None
    try:
        start, end = float(window["start"]), float(window["end"])
    except (KeyError, TypeError, ValueError):
        return None
    return (start, end) if end > start else None


def _percentiles(plane: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(plane, [0.5, 99.5]) if plane.size else (0.0, 1.0)
    return float(low), float(high)
