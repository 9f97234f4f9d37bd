"""Pixels: one level of an ``image_assets`` row opened through a pluggable
backend (zarr-python, zarrs, TensorStore, tifffile, or a registered one)."""

from iceberg_bioimage.pixels.base import (
    Backend,
    PixelArray,
    available_backends,
    open_array,
    register_backend,
)
from iceberg_bioimage.pixels.source import ArraySource, array_source

__all__ = [
    "ArraySource",
    "Backend",
    "PixelArray",
    "array_source",
    "available_backends",
    "open_array",
    "register_backend",
]
