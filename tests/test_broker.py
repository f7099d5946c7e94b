"""The embedded broker (config/broker.py): a worker never takes a message before it is whole.

kombu's own filesystem transport created the file under its final name and wrote into
it afterwards: a worker polling in between took an empty message and died on it.
"""

from __future__ import annotations

import threading
import time
from queue import Empty

from kombu import Connection


def test_a_polling_reader_only_ever_gets_whole_messages(tmp_path):
    folder = str(tmp_path)
    options = {"data_folder_in": folder, "data_folder_out": folder, "store_processed": False,
               "processed_folder": str(tmp_path / "processed")}  # fmt: skip
    (tmp_path / "processed").mkdir()
    payload = {"body": "x" * 200_000}
    sent, got, errors = 200, [], []
    with (
        Connection("filesystem://", transport_options=options) as writer,
        Connection("filesystem://", transport_options=options) as reader,
    ):
        done = threading.Event()

        def read() -> None:
            channel = reader.default_channel
            deadline = time.monotonic() + 60
            while (not done.is_set() or len(got) < sent) and time.monotonic() < deadline:
                try:
                    got.append(channel._get("q"))
                except Empty:
                    continue
                except Exception as error:  # what the worker died of
                    errors.append(error)
                    return

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        channel = writer.default_channel
        for _ in range(sent):
            channel._put("q", payload)
        done.set()
        thread.join(timeout=60)
    assert errors == [] and len(got) == sent and all(m == payload for m in got)
