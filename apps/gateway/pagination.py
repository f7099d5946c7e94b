"""Pagination of remote APIs (DESIGN §7): how one page leads to the next.

A webhook's ``pagination`` is a JSON object with a ``type`` and its options:

* ``none`` — one request.
* ``page_number`` — ``page_param`` (default "page"), ``start_page`` (1),
  ``size_param`` + ``size`` (optional); stops when ``has_more_path`` is
  false, when ``total_pages_path`` pages were read, or at a short/empty page.
* ``offset`` — ``offset_param`` ("offset"), ``limit_param`` ("limit"),
  ``limit`` (100); stops at ``total_path`` records or a short/empty page.
* ``cursor`` — ``cursor_param`` ("cursor"); the next cursor is read from
  ``next_cursor_path`` in the body or from the last record's ``cursor_field``;
  stops when ``has_more_path`` is false, at no cursor or an empty page.
* ``link_header`` — follows the RFC 8288 ``Link: <…>; rel="next"`` header.
* ``next_url`` — follows the URL at ``next_url_path`` in the body.

Every type accepts ``max_pages`` (stop quietly after that many pages).
Paths are JMESPath expressions. This module holds no I/O: the client asks a
:class:`Paginator` for the next :class:`PageRequest` after every page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import jmespath

from coderunner.translation.functions import ExpressionTooBig, compile_jmespath

TEXT, PATH, POSITIVE, NATURAL = "text", "path", "positive", "natural"
# Page sizes, page numbers and page counts beyond this are typing mistakes.
MAX_NUMBER = 1_000_000
EXPECTED = {
    TEXT: "a non-empty string",
    PATH: "a JMESPath expression",
    POSITIVE: f"an integer from 1 to {MAX_NUMBER}",
    NATURAL: f"an integer from 0 to {MAX_NUMBER}",
}
OPTIONS: dict[str, dict[str, str]] = {
    "none": {},
    "page_number": {
        "page_param": TEXT,
        "start_page": NATURAL,
        "size_param": TEXT,
        "size": POSITIVE,
        "has_more_path": PATH,
        "total_pages_path": PATH,
    },
    "offset": {"offset_param": TEXT, "limit_param": TEXT, "limit": POSITIVE, "total_path": PATH},
    "cursor": {
        "cursor_param": TEXT,
        "next_cursor_path": PATH,
        "cursor_field": TEXT,
        "has_more_path": PATH,
    },
    "link_header": {},
    "next_url": {"next_url_path": PATH},
}
COMMON_OPTIONS = {"max_pages": POSITIVE}
DEFAULTS: dict[str, dict[str, Any]] = {
    "page_number": {"page_param": "page", "start_page": 1},
    "offset": {"offset_param": "offset", "limit_param": "limit", "limit": 100},
    "cursor": {"cursor_param": "cursor"},
}


def _option_problem(name: str, kind: str, value: Any) -> str | None:
    if kind in (POSITIVE, NATURAL):
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok and (1 if kind == POSITIVE else 0) <= value <= MAX_NUMBER
    else:
        ok = isinstance(value, str) and bool(value.strip())
    if ok and kind == PATH:
        try:
            compile_jmespath(value)  # bounded in size and nesting before it is parsed
        except (jmespath.exceptions.JMESPathError, ExpressionTooBig) as error:
            return f"'{name}': {value!r} is not a valid JMESPath expression ({error})."
    return None if ok else f"'{name}' must be {EXPECTED[kind]}, not {value!r}."


def pagination_check(spec: Any) -> list[str]:
    """What is wrong with a pagination spec, one message per wrong option ([] if nothing)."""
    if spec in (None, {}):
        return []
    if not isinstance(spec, dict):
        return ['Pagination must be a JSON object such as {"type": "none"}.']
    kind = spec.get("type")
    if kind not in OPTIONS:
        return [f"'type' must be one of {', '.join(OPTIONS)}, not {kind!r}."]
    allowed = {**OPTIONS[kind], **COMMON_OPTIONS}
    problems = []
    for name, value in spec.items():
        if name == "type":
            continue
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            problems.append(f"'{name}' is not an option of type '{kind}' (its options: {known}).")
        elif problem := _option_problem(name, allowed[name], value):
            problems.append(problem)
    if kind == "page_number" and "size_param" in spec and "size" not in spec:
        problems.append("'size_param' needs 'size', the page size to ask for.")
    if kind == "cursor" and not ("next_cursor_path" in spec or "cursor_field" in spec):
        problems.append("Type 'cursor' needs 'next_cursor_path' or 'cursor_field'.")
    if kind == "next_url" and "next_url_path" not in spec:
        problems.append("Type 'next_url' needs 'next_url_path', where the body holds the URL.")
    return problems


@dataclass(frozen=True)
class PageRequest:
    """What to ask for next: extra query parameters, or a whole URL given by the server."""

    params: dict[str, Any] = field(default_factory=dict)
    url: str | None = None  # a next link replaces the URL and the call's parameters

    def identity(self) -> tuple:
        return (self.url, tuple(sorted((k, str(v)) for k, v in self.params.items())))


def _search(expression: str | None, body: Any) -> Any:
    return jmespath.search(expression, body) if expression else None


def records_of(body: Any, records_path: str = "", *, whole_object: bool = False) -> list:
    """The records of an answer: at ``records_path`` (JMESPath) or, without one, the
    body when it is a list, else its first list-valued field. With ``whole_object``
    (unpaginated calls) an object without lists is itself the one record."""
    if records_path:
        found = jmespath.search(records_path, body)
        if found is None:
            return []
        return found if isinstance(found, list) else [found]
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, list):
                return value
        return [body] if whole_object and body else []
    return []


class Paginator:
    """Walks the pages of one pagination spec; subclasses know one type each."""

    def __init__(self, options: dict[str, Any]):
        self.options = options
        self.max_pages = options.get("max_pages")

    def first(self) -> PageRequest:
        return PageRequest()

    def next(
        self, *, number: int, request: PageRequest, body: Any, records: list, response
    ) -> PageRequest | None:
        """The request of page ``number + 1`` after page ``number``, or None when done."""
        if self.max_pages and number >= self.max_pages:
            return None
        return self.follow(request=request, body=body, records=records, response=response)

    def follow(self, *, request, body, records, response) -> PageRequest | None:
        return None


class PageNumberPaginator(Paginator):
    def _request(self, page: int) -> PageRequest:
        params = {self.options["page_param"]: page}
        if "size_param" in self.options:
            params[self.options["size_param"]] = self.options["size"]
        return PageRequest(params)

    def first(self) -> PageRequest:
        return self._request(self.options["start_page"])

    def follow(self, *, request, body, records, response):
        page = request.params[self.options["page_param"]]
        if not records:
            return None
        if "has_more_path" in self.options:
            if not _search(self.options["has_more_path"], body):
                return None
        elif "total_pages_path" in self.options:
            total = _search(self.options["total_pages_path"], body)
            if total is None or page - self.options["start_page"] + 1 >= int(total):
                return None
        elif "size" in self.options and len(records) < self.options["size"]:
            return None
        return self._request(page + 1)


class OffsetPaginator(Paginator):
    def _request(self, offset: int) -> PageRequest:
        return PageRequest(
            {
                self.options["offset_param"]: offset,
                self.options["limit_param"]: self.options["limit"],
            }
        )

    def first(self) -> PageRequest:
        return self._request(0)

    def follow(self, *, request, body, records, response):
        offset = request.params[self.options["offset_param"]] + len(records)
        if not records:
            return None
        if "total_path" in self.options:
            total = _search(self.options["total_path"], body)
            if total is None or offset >= int(total):
                return None
        elif len(records) < self.options["limit"]:
            return None
        return self._request(offset)


class CursorPaginator(Paginator):
    def follow(self, *, request, body, records, response):
        if not records:
            return None
        if "has_more_path" in self.options and not _search(self.options["has_more_path"], body):
            return None
        if "next_cursor_path" in self.options:
            cursor = _search(self.options["next_cursor_path"], body)
        else:
            last = records[-1]
            cursor = last.get(self.options["cursor_field"]) if isinstance(last, dict) else None
        if cursor in (None, ""):
            return None
        return PageRequest({self.options["cursor_param"]: cursor})


class LinkHeaderPaginator(Paginator):
    def follow(self, *, request, body, records, response):
        link = response.links.get("next", {}).get("url")
        return PageRequest(url=urljoin(response.url, link)) if link else None


class NextUrlPaginator(Paginator):
    def follow(self, *, request, body, records, response):
        link = _search(self.options["next_url_path"], body)
        if not link or not isinstance(link, str):
            return None
        return PageRequest(url=urljoin(response.url, link))


PAGINATORS: dict[str, type[Paginator]] = {
    "none": Paginator,
    "page_number": PageNumberPaginator,
    "offset": OffsetPaginator,
    "cursor": CursorPaginator,
    "link_header": LinkHeaderPaginator,
    "next_url": NextUrlPaginator,
}


def paginator_for(spec: dict[str, Any] | None) -> Paginator:
    """The paginator of a (valid) pagination spec, with its defaults filled in."""
    spec = spec or {"type": "none"}
    kind = spec["type"]
    return PAGINATORS[kind]({**DEFAULTS.get(kind, {}), **spec})
