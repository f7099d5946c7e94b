"""Reading a webhook's pages ahead: the next page is fetched while the caller stores this one.

An import spends about as long waiting for a page as storing it (bench/import_flow.py);
:func:`prefetching` overlaps the two with one thread per fetch::

    with prefetching(webhook_fetch(webhook=w)) as pages:
        for page in pages:
            store(page.records)      # meanwhile the next page is requested

It pays when the API takes its time; when pages come at once (a local API),
the thread costs more than it saves: the storing thread's database round trips
wait for the interpreter lock while the reading thread parses a page (measured
on PostgreSQL with a local API: 13,000 records/s one page after the other,
8,000 reading ahead, ~10 ms more a page). So the first two pages are read in
the caller's thread, and the rest ahead if both took SLOW_PAGE_SECONDS or more.

The thread does only what needs no database: requests, parsing, pagination.
The request-log rows it makes are handed over with each page and written by
the caller's thread, on the caller's connection and inside its transactions.
OAuth 2.0 authorizations may store new tokens between requests, so their pages
are read one after the other, as without prefetching.

At most two pages are held ahead. An error while fetching is raised where
the caller asks for the page that failed, after the pages before it; when the
caller stops early or fails, the thread stops after its current request and
is joined before :meth:`Prefetch.close` returns: no thread outlives the fetch.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from django.db import connections

from apps.security.models import Authorization

from .client import Fetch, Page
from .logs import LOG_FLUSH_ROWS, write_rows

_PAGE, _END, _ERROR = "page", "end", "error"
_PUT_WAIT = 0.1  # seconds between looks at the stop flag while the caller is busy
NO_LOGS: tuple[list, bool] = ([], False)
# Pages that come faster than this are read one after the other (see the module docs):
# reading ahead cost a PostgreSQL import ~10 ms a page; remote APIs take 50-500 ms.
SLOW_PAGE_SECONDS = 0.02
PROBE_PAGES = 2  # pages read in the caller's thread before deciding


def may_prefetch(fetch: Fetch) -> bool:
    """Pages are read ahead unless the authorization may write to the database per request."""
    authorization = fetch.call.authorization
    return authorization is None or authorization.kind != Authorization.Kind.OAUTH2


class Prefetch:
    """The pages of a :class:`Fetch`; when they are slow to come, each is requested while
    the caller works on the one before."""

    def __init__(self, fetch: Fetch) -> None:
        self.fetch = fetch
        # (what, the page or the error, (request-log rows, any failed among them))
        self._queue: queue.Queue[tuple[str, Any, tuple[list, bool]]] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._pending_logs: list = []
        self._unsent_logs: list = []
        self._finished = False
        self._thread: threading.Thread | None = None
        self._page_seconds: list[float] = []

    @property
    def reading_ahead(self) -> bool:
        return self._thread is not None

    def _read_ahead(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"prefetch-webhook-{self.fetch.call.webhook.pk}", daemon=True
        )
        self._thread.start()

    # --- the prefetching thread

    def _run(self) -> None:
        log = self.fetch.call.log
        try:
            for page in self.fetch:
                logs = log.take()
                if not self._put(_PAGE, page, logs):
                    self._unsent_logs = logs[0]  # close() writes them once this thread is done
                    break
            else:
                self._put(_END, None, NO_LOGS)
        except BaseException as error:  # raised to the caller, where it asks for the page
            self._put(_ERROR, error, NO_LOGS)
        finally:
            self.fetch.close()  # a no-op once exhausted; else ends the fetch in its own thread
            connections.close_all()  # none should be open here; never leave one behind

    def _put(self, kind: str, value: Any, logs: tuple[list, bool]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put((kind, value, logs), timeout=_PUT_WAIT)
                return True
            except queue.Full:
                continue
        return False

    # --- the caller's side

    def __iter__(self) -> Iterator[Page]:
        return self

    def __next__(self) -> Page:
        if self._finished:
            raise StopIteration
        if self._thread is None:  # in the caller's thread, while pages come at once
            started = time.monotonic()
            try:
                page = next(self.fetch)
            except BaseException:
                self._finished = True
                raise
            self._page_seconds.append(time.monotonic() - started)
            # The first page's time includes connecting: judge by the faster of two.
            seconds = self._page_seconds
            if len(seconds) == PROBE_PAGES and min(seconds) >= SLOW_PAGE_SECONDS:
                self._read_ahead()
            return page
        kind, value, (rows, failed) = self._queue.get()
        self._pending_logs += rows
        if failed or len(self._pending_logs) >= LOG_FLUSH_ROWS:
            self._write_logs()
        if kind == _PAGE:
            return value
        self.close()
        if kind == _ERROR:
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop reading ahead, wait for the thread, and write the request log."""
        if self._finished:
            return
        self._finished = True
        if self._thread is None:
            self.fetch.close()
            return
        self._stop.set()
        self._thread.join()
        while not self._queue.empty():  # a page read ahead that nobody will ask for
            self._pending_logs += self._queue.get_nowait()[2][0]
        self._pending_logs += self._unsent_logs
        self._write_logs()
        self.fetch.call.log.flush()  # what the thread kept after its last page

    def _write_logs(self) -> None:
        rows, self._pending_logs = self._pending_logs, []
        write_rows(rows)

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class _Sequential:
    """The same interface, page after page in the caller's thread."""

    def __init__(self, fetch: Fetch) -> None:
        self.fetch = fetch

    def __iter__(self) -> Iterator[Page]:
        return self

    def __next__(self) -> Page:
        return next(self.fetch)

    def close(self) -> None:
        self.fetch.close()

    def __enter__(self) -> _Sequential:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def prefetching(fetch: Fetch) -> Prefetch | _Sequential:
    """``fetch``'s pages, read ahead in a thread when that is safe (see the module docs)."""
    return Prefetch(fetch) if may_prefetch(fetch) else _Sequential(fetch)
