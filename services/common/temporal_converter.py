"""The data converter of every Temporal client and worker here: the SDK's default, except
that a dataclass's field types are resolved once per class. The SDK resolves them
(`typing.get_type_hints`, which evaluates every string annotation) on every decode of
every dataclass, a few percent of the order service's CPU per payment."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, get_type_hints

from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
    value_to_type,
)


@functools.cache
def _init_field_hints(cls: type) -> dict[str, Any] | None:
    """The types of the dataclass's fields; None if one is not set by __init__ (left to
    the SDK, which sets those after construction)."""
    fields = dataclasses.fields(cls)
    if not all(field.init for field in fields):
        return None
    hints = get_type_hints(cls)
    return {field.name: hints[field.name] for field in fields}


class DataclassWithResolvedHints(JSONTypeConverter):
    """Decodes a dataclass as the SDK does (unknown keys ignored, a missing required field
    fails the construction), with its field types resolved once."""

    def to_typed_value(self, hint: type, value: Any) -> Any:
        if not (isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, dict)):
            return JSONTypeConverter.Unhandled
        field_hints = _init_field_hints(hint)
        if field_hints is None:
            return JSONTypeConverter.Unhandled
        converters = [self]
        return hint(
            **{
                name: value_to_type(field_type, value[name], converters)
                for name, field_type in field_hints.items()
                if name in value
            }
        )


class PayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        super().__init__(
            *(
                JSONPlainPayloadConverter(custom_type_converters=[DataclassWithResolvedHints()])
                if isinstance(converter, JSONPlainPayloadConverter)
                else converter
                for converter in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


DATA_CONVERTER = DataConverter(payload_converter_class=PayloadConverter)
