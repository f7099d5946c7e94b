"""The embedded broker: kombu's filesystem transport, woken when a message is written.

kombu's transport looks for new message files every ``polling_interval``
(0.1 s here): each hop of a change travelling through two flows waited ~50 ms
on average for the next look, and an idle worker listed its folder ten times a
second. This transport waits on the folder with Linux inotify instead: a
worker wakes as soon as a message file is closed, and sleeps otherwise. It
still looks every ``WAKEUP_TIMEOUT`` seconds (a missed event, a folder on a
network filesystem whose remote writes inotify does not see). An
acknowledgement wakes it too: a worker with all its slots taken leaves new
messages alone, and may take one as soon as a slot frees. Without inotify
(another OS, no instance left) it polls as kombu's does.

A producer writes each message under a temporary name and renames it, so
that a consumer woken at once never reads a message half written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import uuid
from queue import Empty
from time import monotonic, sleep

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps

logger = logging.getLogger(__name__)

# The longest a consumer waits for an inotify event before looking anyway.
WAKEUP_TIMEOUT = 1.0


class FolderWatch:
    """Waits until a file is written into (or moved into) a folder, or :meth:`wake` is called."""

    def __init__(self, folder: str) -> None:
        from inotify_simple import INotify, flags

        self._inotify = INotify()
        try:
            self._inotify.add_watch(folder, flags.CLOSE_WRITE | flags.MOVED_TO)
        except OSError:
            self._inotify.close()
            raise
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._poll = select.poll()
        self._poll.register(self._inotify.fileno(), select.POLLIN)
        self._poll.register(self._wake_read, select.POLLIN)
        self._closed = False

    def wait(self, seconds: float) -> None:
        """Return at the next event (at once if one is pending), or after ``seconds``."""
        ready = {fd for fd, _ in self._poll.poll(max(1, round(seconds * 1000)))}
        if self._inotify.fileno() in ready:
            self._inotify.read(timeout=0)  # drain the events: they all mean "look again"
        if self._wake_read in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_read, 4096)

    def wake(self) -> None:
        """Make the current or next wait return (from any thread)."""
        if self._closed:
            return
        with contextlib.suppress(BlockingIOError):  # the pipe is full: a wake is pending anyway
            os.write(self._wake_write, b"!")

    def close(self) -> None:
        self._closed = True
        self._inotify.close()
        os.close(self._wake_read)
        os.close(self._wake_write)


def folder_watch(folder: str) -> FolderWatch | None:
    try:
        return FolderWatch(folder)
    except (ImportError, OSError) as error:  # not Linux, or no inotify instance left
        logger.warning("Broker folder %s is polled (no inotify: %s)", folder, error)
        return None


class Channel(filesystem.Channel):
    """Messages appear whole; acknowledging one may let the consumer take the next: wake it."""

    def _put(self, queue, payload, **kwargs):
        # kombu creates the message file, then writes it: a consumer woken at once could
        # read it empty. Written under another name and renamed, it appears complete.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        partial = f"{path}.partial"  # not "<queue>.msg": consumers leave it alone
        try:
            with open(partial, "wb") as file:
                file.write(dumps(payload).encode())
            os.replace(partial, path)
        except OSError as error:
            raise ChannelError(f"Cannot add file {path!r} to directory") from error

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple=multiple)
        self.connection.wake()

    def basic_reject(self, delivery_tag, requeue=False):
        super().basic_reject(delivery_tag, requeue=requeue)
        self.connection.wake()


class Transport(filesystem.Transport):
    """kombu's filesystem transport; its consumers wait on inotify instead of sleeping."""

    Channel = Channel
    _watch: FolderWatch | None = None
    _watching = False

    def drain_events(self, connection, timeout=None):
        # kombu's virtual Transport.drain_events, with the sleep made a wait for a message.
        watch = self._folder_watch()
        started = monotonic()
        interval = self.polling_interval if watch is None else WAKEUP_TIMEOUT
        if timeout and interval and interval > timeout:
            interval = timeout
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
            except Empty:
                if timeout is not None and monotonic() - started >= timeout:
                    raise TimeoutError() from None
                if watch is not None:
                    watch.wait(interval)
                elif interval is not None:
                    sleep(interval)
            else:
                return

    def _folder_watch(self) -> FolderWatch | None:
        """The watch of the folder messages arrive in, made before the consumer's first look."""
        if not self._watching:
            self._watching = True
            options = self.client.transport_options  # type: ignore[attr-defined]
            self._watch = folder_watch(options.get("data_folder_in", "data_in"))
        return self._watch

    def wake(self) -> None:
        """A consumer held back by unacknowledged messages may go on: no file says so."""
        if self._watch is not None:
            self._watch.wake()

    def close_connection(self, connection):
        try:
            super().close_connection(connection)
        finally:
            if self._watch is not None:
                self._watch.close()
            self._watch, self._watching = None, False
