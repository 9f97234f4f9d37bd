"""One vocabulary for units: the names OME-NGFF uses (from UCUM), whatever the
format wrote (OME-XML's symbols such as ``µm`` or ``s``, ImageJ's ``micron``)."""

from __future__ import annotations

_PREFIXES = {
    "Y": "yotta", "Z": "zetta", "E": "exa", "P": "peta", "T": "tera", "G": "giga",
    "M": "mega", "k": "kilo", "h": "hecto", "da": "deca", "d": "deci", "c": "centi",
    "m": "milli", "µ": "micro", "u": "micro", "n": "nano", "p": "pico", "f": "femto",
    "a": "atto", "z": "zepto", "y": "yocto",
}  # fmt: skip
_BASES = {"m": "meter", "s": "second"}
_OTHER = {
    "Å": "angstrom",
    "\\u00B5m": "micrometer",  # ImageJ writes the escape itself
    "micron": "micrometer",
    "microns": "micrometer",
    "in": "inch",
    "ft": "foot",
    "yd": "yard",
    "mi": "mile",
    "pc": "parsec",
    "min": "minute",
    "h": "hour",
    "d": "day",
}


def ngff_unit(unit: str | None) -> str | None:
    """``µm`` -> ``micrometer``, ``ms`` -> ``millisecond``; names already in the
    vocabulary pass as they are (lower-cased); unknown units are kept as given."""
    if unit is None:
        return None
    text = unit.strip()
    if not text:
        return None
    if text in _OTHER:
        return _OTHER[text]
    for base_symbol, base in _BASES.items():
        if text == base_symbol:
            return base
        if text.endswith(base_symbol):
            prefix = _PREFIXES.get(text[: -len(base_symbol)])
            if prefix:
                return prefix + base
    lowered = text.lower()
    return lowered if lowered.isalpha() else text
