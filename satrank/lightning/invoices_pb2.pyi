from satrank.lightning import lightning_pb2 as _lightning_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LookupModifier(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEFAULT: _ClassVar[LookupModifier]
    HTLC_SET_ONLY: _ClassVar[LookupModifier]
    HTLC_SET_BLANK: _ClassVar[LookupModifier]
DEFAULT: LookupModifier
HTLC_SET_ONLY: LookupModifier
HTLC_SET_BLANK: LookupModifier

class SubscribeSingleInvoiceRequest(_message.Message):
    __slots__ = ("r_hash",)
    R_HASH_FIELD_NUMBER: _ClassVar[int]
    r_hash: bytes
    def __init__(self, r_hash: _Optional[bytes] = ...) -> None: ...

class LookupInvoiceMsg(_message.Message):
    __slots__ = ("payment_hash", "payment_addr", "set_id", "lookup_modifier")
    PAYMENT_HASH_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ADDR_FIELD_NUMBER: _ClassVar[int]
    SET_ID_FIELD_NUMBER: _ClassVar[int]
    LOOKUP_MODIFIER_FIELD_NUMBER: _ClassVar[int]
    payment_hash: bytes
    payment_addr: bytes
    set_id: bytes
    lookup_modifier: LookupModifier
    def __init__(self, payment_hash: _Optional[bytes] = ..., payment_addr: _Optional[bytes] = ..., set_id: _Optional[bytes] = ..., lookup_modifier: _Optional[_Union[LookupModifier, str]] = ...) -> None: ...
