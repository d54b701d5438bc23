"""Frames between the grader and the sandbox: an 8-byte little-endian length, then a
``torch.save`` payload that the reader loads with ``weights_only=True``."""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

HEADER = struct.Struct("<Q")


def encode(message: dict) -> bytes:
    """One frame holding ``message``."""
    import torch  # here, not at the top: the grader imports this module before torch

    buffer = io.BytesIO()
    torch.save(message, buffer)
    data = buffer.getvalue()
    return HEADER.pack(len(data)) + data


def decode(payload: bytes) -> object:
    """The message in a frame's payload; nothing in it can run code."""
    import torch

    return torch.load(io.BytesIO(payload), weights_only=True)


def read_frame(stream: BinaryIO) -> dict | None:
    """The next message on ``stream``, or ``None`` when the other side closed it."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    chunks, left = [], size
    while left:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return decode(b"".join(chunks))


def write_frame(stream: BinaryIO, message: dict) -> None:
    """Send ``message`` as one frame."""
    stream.write(encode(message))
