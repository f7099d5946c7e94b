"""MIME types as the translation library sees them: what to check, parse and name."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class MediaType:
    """A parsed MIME type: ``kind`` is json, xml, html, csv, text or other."""

    essence: str
    kind: str
    file_extension: str
    charset: str | None = None
    delimiter: str = ","

    @property
    def autoescape(self) -> bool:
        return self.kind in {"xml", "html"}


_KNOWN = {
    "application/json": ("json", "json"),
    "text/json": ("json", "json"),
    "application/xml": ("xml", "xml"),
    "text/xml": ("xml", "xml"),
    "text/html": ("html", "html"),
    "application/xhtml+xml": ("html", "xhtml"),
    "text/csv": ("csv", "csv"),
    "text/tab-separated-values": ("csv", "tsv"),
    "text/plain": ("text", "txt"),
}


@lru_cache(maxsize=256)
def media_type(mime_type: str) -> MediaType:
    """``"text/csv; charset=latin-1"`` → MediaType(essence="text/csv", kind="csv", …)."""
    essence, _, parameters = (mime_type or "").partition(";")
    essence = essence.strip().lower()
    charset = None
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    if essence in _KNOWN:
        kind, extension = _KNOWN[essence]
    elif essence.endswith("+json"):
        kind, extension = "json", "json"
    elif essence.endswith("+xml"):
        kind, extension = "xml", "xml"
    elif essence.startswith("text/"):
        kind, extension = "text", "txt"
    else:
        kind, extension = "other", "txt"
    delimiter = "\t" if extension == "tsv" else ","
    return MediaType(essence, kind, extension, charset, delimiter)
