"""The embedded broker: kombu's filesystem transport, with messages written atomically.

kombu creates a message's file under its final name, then writes into it. A worker
polling the folder in between takes the still empty file, dies on it ("Unrecoverable
error: JSONDecodeError") and the message is lost; under load (the escape corpus sends
some 600 tasks) it happened. Here a message is written under a name no reader takes,
then renamed into place: readers see it whole or not at all.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # No dot: readers take only "<stamp>_<id>.<queue>.msg" files.
        partial = os.path.join(self.data_folder_out, f"partial-{uuid.uuid4()}")
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as error:
            raise ChannelError(f"Cannot add file {final!r} to directory") from error


class Transport(filesystem.Transport):
    Channel = Channel
