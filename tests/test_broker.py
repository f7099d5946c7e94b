"""The embedded broker (config/filesystem_broker.py): consumers are woken, not polling.

Each test polls every 30 seconds at most, so a message that arrives in well under
that was delivered because its file (or an acknowledgement) woke the consumer.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid

import pytest
from kombu import Connection, Consumer, Exchange, Producer, Queue

from config import filesystem_broker

SLOW_POLL = 30.0
WITHIN = 10.0  # far below SLOW_POLL, far above any wake-up on a busy machine


@pytest.fixture
def broker(tmp_path, monkeypatch):
    monkeypatch.setattr(filesystem_broker, "WAKEUP_TIMEOUT", SLOW_POLL)
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {
        "data_folder_in": str(folder), "data_folder_out": str(folder),
        "store_processed": False, "control_folder": str(tmp_path), "polling_interval": SLOW_POLL,
    }  # fmt: skip

    def connect() -> Connection:
        return Connection("filesystem://", transport=filesystem_broker.Transport,
                          transport_options=options)  # fmt: skip

    return connect


def new_queue() -> Queue:
    # kombu keeps the bindings of the filesystem transport per process: a name per test.
    name = f"q-{uuid.uuid4().hex}"
    return Queue(name, Exchange(name), name)


def publish(connection: Connection, queue: Queue, body) -> None:
    Producer(connection).publish(body, exchange=queue.exchange, routing_key=queue.routing_key,
                                 declare=[queue], serializer="json")  # fmt: skip


class Received:
    """A consumer draining events in a thread until told to stop."""

    def __init__(self, connection: Connection, queue: Queue, prefetch: int = 0) -> None:
        self.queue = queue
        self.bodies: list = []
        self.messages: list = []
        self.stop = threading.Event()
        self.connection = connection
        self.consumer = Consumer(connection, [queue], callbacks=[self.on_message], accept=["json"])
        if prefetch:
            self.consumer.qos(prefetch_count=prefetch)
        self.consumer.consume()
        self.thread = threading.Thread(target=self.drain, daemon=True)
        self.thread.start()

    def on_message(self, body, message):
        if body == "stop":
            message.ack()
            self.stop.set()
            return
        self.bodies.append(body)
        self.messages.append(message)

    def drain(self):
        # A long timeout: kombu's own transport would sleep through it.
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                self.connection.drain_events(timeout=SLOW_POLL)

    def wait_for(self, count: int) -> float:
        start = time.monotonic()
        while len(self.bodies) < count and time.monotonic() - start < WITHIN:
            time.sleep(0.005)
        return time.monotonic() - start

    def close(self, producing: Connection):
        publish(producing, self.queue, "stop")  # wakes the drain, which then ends
        self.thread.join(WITHIN)
        assert not self.thread.is_alive()
        self.connection.release()


def test_a_written_message_wakes_the_waiting_consumer(broker):
    queue = new_queue()
    consumer = Received(broker(), queue)
    try:
        time.sleep(0.5)  # the consumer is waiting by now
        with broker() as producing:
            publish(producing, queue, {"n": 1})
        consumer.wait_for(1)
        assert consumer.bodies == [{"n": 1}]
    finally:
        with broker() as producing:
            consumer.close(producing)


def test_an_acknowledgement_lets_a_full_consumer_take_the_next_message(broker):
    """One message at a time (prefetch 1): the second waits for the first's ack, not for a poll."""
    queue = new_queue()
    consumer = Received(broker(), queue, prefetch=1)
    try:
        with broker() as producing:
            publish(producing, queue, {"n": 1})
            consumer.wait_for(1)
            publish(producing, queue, {"n": 2})
        time.sleep(0.5)  # the second is there, held back by the unacknowledged first
        assert consumer.bodies == [{"n": 1}]
        consumer.messages[0].ack()
        consumer.wait_for(2)
        assert consumer.bodies == [{"n": 1}, {"n": 2}]
        consumer.messages[1].ack()
    finally:
        with broker() as producing:
            consumer.close(producing)


def test_without_inotify_the_folder_is_polled(broker, monkeypatch):
    monkeypatch.setattr(filesystem_broker, "folder_watch", lambda folder: None)
    queue = new_queue()
    connection = broker()
    connection.transport_options["polling_interval"] = 0.05
    consumer = Received(connection, queue)
    try:
        with broker() as producing:
            publish(producing, queue, {"n": 1})
        consumer.wait_for(1)
        assert consumer.bodies == [{"n": 1}]
    finally:
        with broker() as producing:
            consumer.close(producing)


def test_a_message_appears_whole_under_its_name(broker, tmp_path):
    """Written elsewhere and renamed: no consumer, woken at once, finds a message half written."""
    from inotify_simple import INotify, flags

    folder = tmp_path / "queue"
    queue = new_queue()
    with INotify() as watch:
        watch.add_watch(str(folder), flags.OPEN | flags.CLOSE_WRITE | flags.MOVED_TO)
        with broker() as producing:
            publish(producing, queue, {"n": 1})
        events = [(event.name, flags.from_mask(event.mask)) for event in watch.read(timeout=1000)]
    final = [name for name, _ in events if name.endswith(".msg")]
    assert final and all(mask == [flags.MOVED_TO] for name, mask in events if name in final)
    assert [path.name for path in folder.iterdir()] == final[:1]
