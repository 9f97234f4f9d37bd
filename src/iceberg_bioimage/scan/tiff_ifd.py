"""A TIFF file's image file directories (IFDs) read directly, without tifffile:
the first page's ImageDescription and, for any IFD, the facts the scan keeps
(plane size, tiling, compression, sample layout, SubIFD levels).

A metadata scan of an OME-TIFF needs nothing else, and opening it through
tifffile costs twice what the scan does with it. Only plain, well-formed files
take this path: anything tifffile would treat specially or warn about (an
unknown field type, a value past the end of the file, a compression with
quirks, a description that is not UTF-8, a loop of IFDs) raises
:class:`NeedsTifffile`, and the caller reads the file with tifffile, which
knows every quirk and says what is wrong.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

_FIRST_READ = 64 << 10  # header, first IFD and a tifffile-written description
_MAX_ENTRIES = 4096  # entries in one IFD
_MAX_VALUE_BYTES = 64 << 20  # the largest tag value read (an OME-XML description)
_MAX_IFDS = 1 << 16  # IFDs walked to reach one
_MAX_SUBIFDS = 64

# field type: (bytes per value, struct code of an integer type, else "")
_TYPES = {
    1: (1, "B"), 2: (1, ""), 3: (2, "H"), 4: (4, "I"), 5: (8, ""), 6: (1, "b"), 7: (1, "B"),
    8: (2, "h"), 9: (4, "i"), 10: (8, ""), 11: (4, ""), 12: (8, ""), 13: (4, "I"),
    16: (8, "Q"), 17: (8, "q"), 18: (8, "Q"),
}  # fmt: skip
_WIDTH, _LENGTH, _COMPRESSION, _DESCRIPTION, _PLANAR = 256, 257, 259, 270, 284
_TILE_WIDTH, _TILE_LENGTH, _SUBIFDS, _TILE_DEPTH = 322, 323, 330, 32998
_KEPT = frozenset(
    (_WIDTH, _LENGTH, _COMPRESSION, _DESCRIPTION, _PLANAR, _TILE_WIDTH, _TILE_LENGTH, _SUBIFDS)
) | {_TILE_DEPTH}
# CCITT and old-style JPEG: tifffile estimates or repairs their fields.
_QUIRKY_COMPRESSIONS = frozenset((2, 3, 4, 6, 65000, 65001, 65002))


class NeedsTifffile(Exception):
    """This file is not plain enough to be read without tifffile."""


@dataclass(frozen=True, slots=True)
class IfdPage:
    """What one IFD says about its plane."""

    length: int
    width: int
    tile: tuple[int, int, int] | None  # depth, length, width
    compression: int
    contiguous_samples: bool
    subifds: tuple[int, ...] = ()  # file offsets of the reduced levels


class IfdReader:
    """The IFDs of one open file, read on demand (the handle stays the caller's)."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._size = os.fstat(handle.fileno()).st_size
        handle.seek(0)
        self._start = handle.read(_FIRST_READ)
        order = self._start[:2]
        if order not in (b"II", b"MM"):
            raise NeedsTifffile("not a TIFF header")
        self._order = "<" if order == b"II" else ">"
        (version,) = self._unpack("H", 2)
        if version == 42:
            self.bigtiff = False
            (self._first,) = self._unpack("I", 4)
        elif version == 43 and self._unpack("HH", 4) == (8, 0):
            self.bigtiff = True
            (self._first,) = self._unpack("Q", 8)
        else:
            raise NeedsTifffile("not a TIFF or BigTIFF header")
        self._entries, self._next_of = self._ifd(self._first)
        first = self._entries.get(_DESCRIPTION)
        self.description = "" if first is None else _ascii(self._value(*first))

    def image(self, index: int) -> tuple[IfdPage, list[IfdPage]] | None:
        """The IFD at this position in the chain and its SubIFDs (reduced
        levels); None past the chain's end."""
        page = self._page_at(index)
        if page is None:
            return None
        return page, [self._page(self._ifd(offset)[0]) for offset in page.subifds]

    def _page_at(self, index: int) -> IfdPage | None:
        if not 0 <= index <= _MAX_IFDS:
            raise NeedsTifffile("an IFD beyond the walk limit")
        entries, following, seen = self._entries, self._next_of, {self._first}
        for _ in range(index):
            if following == 0:
                return None
            if following in seen:
                raise NeedsTifffile("a loop of IFDs")
            seen.add(following)
            entries, following = self._ifd(following)
        return self._page(entries)

    def _page(self, entries: dict[int, tuple[int, int, int]]) -> IfdPage:
        values = {tag: self._numbers(*entries[tag]) for tag in entries if tag != _DESCRIPTION}
        width, length = _one(values, _WIDTH, 0), _one(values, _LENGTH, 0)
        compression = _one(values, _COMPRESSION, 1)
        if not width or not length or compression in _QUIRKY_COMPRESSIONS:
            raise NeedsTifffile("a plane tifffile would repair")
        tile = None
        if _TILE_WIDTH in values:
            tile_length = _one(values, _TILE_LENGTH, 0)
            if not tile_length:
                raise NeedsTifffile("tile width without tile length")
            tile = (_one(values, _TILE_DEPTH, 1) or 1, tile_length, _one(values, _TILE_WIDTH, 0))
        subifds = values.get(_SUBIFDS, ())
        if len(subifds) > _MAX_SUBIFDS:
            raise NeedsTifffile("too many SubIFDs")
        return IfdPage(
            length, width, tile, compression, _one(values, _PLANAR, 1) == 1, tuple(subifds)
        )

    def _ifd(self, offset: int) -> tuple[dict[int, tuple[int, int, int]], int]:
        """The kept entries of the IFD at ``offset`` (tag: type, count, value
        position) and the offset of the next IFD."""
        count_code, entry_size, offset_code = ("Q", 20, "Q") if self.bigtiff else ("H", 12, "I")
        head = 8 if self.bigtiff else 2
        if offset < 8 or offset % 2 or offset + head > self._size:
            raise NeedsTifffile("IFD offset out of the file")
        (count,) = self._unpack(count_code, offset)
        if not 0 < count <= _MAX_ENTRIES:
            raise NeedsTifffile("IFD entry count")
        table = self._read(offset + head, count * entry_size + (8 if self.bigtiff else 4))
        entry_code = f"{self._order}HH{'QQ' if self.bigtiff else 'II'}"
        inline = 8 if self.bigtiff else 4
        entries: dict[int, tuple[int, int, int]] = {}
        for index in range(count):
            at = index * entry_size
            tag, kind, number, value = struct.unpack_from(entry_code, table, at)
            if kind not in _TYPES:
                raise NeedsTifffile(f"tag {tag} has field type {kind}")
            size = _TYPES[kind][0] * number
            position = offset + head + at + 4 + (8 if self.bigtiff else 4)
            if size > inline:
                position = value
            if position + size > self._size or size > _MAX_VALUE_BYTES:
                raise NeedsTifffile(f"tag {tag}'s value is past the end of the file")
            if tag in _KEPT and tag not in entries:
                entries[tag] = (kind, number, position)
        (next_offset,) = struct.unpack_from(self._order + offset_code, table, count * entry_size)
        return entries, next_offset

    def _value(self, kind: int, number: int, position: int) -> bytes:
        if kind != 2:
            raise NeedsTifffile("a description that is not ASCII")
        return self._read(position, number)

    def _numbers(self, kind: int, number: int, position: int) -> tuple[int, ...]:
        size, code = _TYPES[kind]
        if not code or number > _MAX_IFDS:
            raise NeedsTifffile("an integer tag of another type")
        return struct.unpack(f"{self._order}{number}{code}", self._read(position, size * number))

    def _unpack(self, code: str, offset: int) -> tuple[int, ...]:
        return struct.unpack(self._order + code, self._read(offset, struct.calcsize(code)))

    def _read(self, offset: int, size: int) -> bytes:
        if offset + size <= len(self._start):
            return self._start[offset : offset + size]
        self._handle.seek(offset)
        data = self._handle.read(size)
        if len(data) != size:
            raise NeedsTifffile("short read")
        return data


def _one(values: dict[int, tuple[int, ...]], tag: int, default: int) -> int:
    found = values.get(tag)
    if found is None:
        return default
    if len(found) != 1:
        raise NeedsTifffile(f"tag {tag} holds {len(found)} values")
    return found[0]


def _ascii(raw: bytes) -> str:
    """An ASCII field as tifffile reads it: trailing NULs dropped, UTF-8, stripped."""
    try:
        return raw.rstrip(b"\x00").decode("utf-8").strip()
    except UnicodeDecodeError:
        raise NeedsTifffile("a description that is not UTF-8") from None
