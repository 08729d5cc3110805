"""The field rules written in proto/ (buf.validate annotations), checked on
every request message as it enters: the interceptor calls `check_request`
before a handler sees the message (each message of a client stream too).

The rules that need data or configuration (policies, page tokens, which
keyspaces exist) stay hand-written in the domain. A broken rule is a bug of
ours: protovalidate's CompilationError or EvaluationError then ends the call
as INTERNAL, like any other unexpected exception.
"""

from __future__ import annotations

import protovalidate
from google.protobuf.message import Message
from protovalidate import FieldPathPb, ViolationPb

from gateway.errors import FieldViolation, InvalidArgument

# One validator for the process: it compiles each message type's rules (CEL)
# once, on the first message of that type, and keeps them.
_VALIDATOR = protovalidate.Validator()


def check_request(message: Message) -> None:
    """Raise InvalidArgument with every rule the message breaks, one
    BadRequest field violation each, as the hand-written checks do."""
    violations = _VALIDATOR.collect_violations(message)
    if violations:
        raise InvalidArgument([_field_violation(v.proto) for v in violations])


def _field_violation(violation: ViolationPb) -> FieldViolation:
    # A rule from the standard set always has a message; a custom CEL rule
    # may have only its id.
    return FieldViolation(field_path(violation.field),
                          violation.message or f"breaks the rule {violation.rule_id}")


def field_path(path: FieldPathPb | None) -> str:
    """`items[2].sku`, `attributes[color]`: the notation of our own field
    violations (protovalidate's FieldPath, elements outermost first)."""
    parts: list[str] = []
    for element in path.elements if path is not None else ():
        name = element.field_name or str(element.field_number)
        parts.append(f".{name}" if parts else name)
        if element.subscript is not None:
            parts.append(f"[{_subscript(element.subscript.value)}]")
    return "".join(parts)


def _subscript(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
