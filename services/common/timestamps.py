"""Datetimes as protobuf Timestamps (RFC 3339 UTC strings in the JSON the gateway prints)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2


def timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def optional_timestamp(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    """None (the field left unset) for a moment that has not happened."""
    return None if moment is None else timestamp(moment)
