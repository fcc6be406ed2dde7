"""Arrow scalars and masks built from bytes, never from Python values.

pyarrow turns a Python value into Arrow (`pc.equal(arr, "")`, `pa.scalar(x)`, `pa.array(xs)`)
through a routine whose first call imports pandas when it is installed: ~50 MB, a third of a
pull's memory, for a process that never uses pandas. The pull's few constants are built here
from buffers instead, so a process that only pulls (the CLI, a worker's run) never loads it
(twilio_reports/tests/test_pull_imports.py).
"""

from __future__ import annotations

import struct

import pyarrow as pa


def int64(value: int) -> pa.Scalar:
    return pa.Array.from_buffers(pa.int64(), 1, [None, pa.py_buffer(struct.pack("<q", value))])[0]


def int32(value: int) -> pa.Scalar:
    return pa.Array.from_buffers(pa.int32(), 1, [None, pa.py_buffer(struct.pack("<i", value))])[0]


def null(of: pa.DataType) -> pa.Scalar:
    return pa.nulls(1, of)[0]


def mask(flags: list[bool]) -> pa.BooleanArray:
    """A boolean array of `flags` (no nulls), bit-packed here."""
    packed = bytearray((len(flags) + 7) // 8)
    for i, flag in enumerate(flags):
        if flag:
            packed[i >> 3] |= 1 << (i & 7)
    return pa.Array.from_buffers(pa.bool_(), len(flags), [None, pa.py_buffer(bytes(packed))])


def int64s(values: list[int | None]) -> pa.Int64Array:
    """An int64 array of `values`, None as null."""
    valid = [v is not None for v in values]
    data = struct.pack(f"<{len(values)}q", *(0 if v is None else v for v in values))
    bitmap = None if all(valid) else mask(valid).buffers()[1]
    return pa.Array.from_buffers(pa.int64(), len(values), [bitmap, pa.py_buffer(data)])


def strings(values: list[str]) -> pa.StringArray:
    """A string array of `values` (no nulls), its offsets and data packed here."""
    data = [v.encode() for v in values]
    offsets, end = [0], 0
    for item in data:
        end += len(item)
        offsets.append(end)
    packed = struct.pack(f"<{len(offsets)}i", *offsets)
    return pa.Array.from_buffers(pa.string(), len(values),
                                 [None, pa.py_buffer(packed), pa.py_buffer(b"".join(data))])


def string(value: str) -> pa.Scalar:
    return strings([value])[0]


EMPTY_STRING = string("")
TRUE = mask([True])[0]
FALSE = mask([False])[0]
