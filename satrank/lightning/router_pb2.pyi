from satrank.lightning import lightning_pb2 as _lightning_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SendPaymentRequest(_message.Message):
    __slots__ = ("dest", "amt", "payment_hash", "final_cltv_delta", "payment_request", "timeout_seconds", "fee_limit_sat", "outgoing_chan_id", "cltv_limit", "route_hints", "dest_custom_records", "amt_msat", "fee_limit_msat", "last_hop_pubkey", "allow_self_payment", "dest_features", "max_parts", "no_inflight_updates", "outgoing_chan_ids", "payment_addr", "max_shard_size_msat", "amp", "time_pref", "cancelable", "first_hop_custom_records")
    class DestCustomRecordsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: bytes
        def __init__(self, key: _Optional[int] = ..., value: _Optional[bytes] = ...) -> None: ...
    class FirstHopCustomRecordsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: bytes
        def __init__(self, key: _Optional[int] = ..., value: _Optional[bytes] = ...) -> None: ...
    DEST_FIELD_NUMBER: _ClassVar[int]
    AMT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_HASH_FIELD_NUMBER: _ClassVar[int]
    FINAL_CLTV_DELTA_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_REQUEST_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FEE_LIMIT_SAT_FIELD_NUMBER: _ClassVar[int]
    OUTGOING_CHAN_ID_FIELD_NUMBER: _ClassVar[int]
    CLTV_LIMIT_FIELD_NUMBER: _ClassVar[int]
    ROUTE_HINTS_FIELD_NUMBER: _ClassVar[int]
    DEST_CUSTOM_RECORDS_FIELD_NUMBER: _ClassVar[int]
    AMT_MSAT_FIELD_NUMBER: _ClassVar[int]
    FEE_LIMIT_MSAT_FIELD_NUMBER: _ClassVar[int]
    LAST_HOP_PUBKEY_FIELD_NUMBER: _ClassVar[int]
    ALLOW_SELF_PAYMENT_FIELD_NUMBER: _ClassVar[int]
    DEST_FEATURES_FIELD_NUMBER: _ClassVar[int]
    MAX_PARTS_FIELD_NUMBER: _ClassVar[int]
    NO_INFLIGHT_UPDATES_FIELD_NUMBER: _ClassVar[int]
    OUTGOING_CHAN_IDS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ADDR_FIELD_NUMBER: _ClassVar[int]
    MAX_SHARD_SIZE_MSAT_FIELD_NUMBER: _ClassVar[int]
    AMP_FIELD_NUMBER: _ClassVar[int]
    TIME_PREF_FIELD_NUMBER: _ClassVar[int]
    CANCELABLE_FIELD_NUMBER: _ClassVar[int]
    FIRST_HOP_CUSTOM_RECORDS_FIELD_NUMBER: _ClassVar[int]
    dest: bytes
    amt: int
    payment_hash: bytes
    final_cltv_delta: int
    payment_request: str
    timeout_seconds: int
    fee_limit_sat: int
    outgoing_chan_id: int
    cltv_limit: int
    route_hints: _containers.RepeatedCompositeFieldContainer[_lightning_pb2.RouteHint]
    dest_custom_records: _containers.ScalarMap[int, bytes]
    amt_msat: int
    fee_limit_msat: int
    last_hop_pubkey: bytes
    allow_self_payment: bool
    dest_features: _containers.RepeatedScalarFieldContainer[_lightning_pb2.FeatureBit]
    max_parts: int
    no_inflight_updates: bool
    outgoing_chan_ids: _containers.RepeatedScalarFieldContainer[int]
    payment_addr: bytes
    max_shard_size_msat: int
    amp: bool
    time_pref: float
    cancelable: bool
    first_hop_custom_records: _containers.ScalarMap[int, bytes]
    def __init__(self, dest: _Optional[bytes] = ..., amt: _Optional[int] = ..., payment_hash: _Optional[bytes] = ..., final_cltv_delta: _Optional[int] = ..., payment_request: _Optional[str] = ..., timeout_seconds: _Optional[int] = ..., fee_limit_sat: _Optional[int] = ..., outgoing_chan_id: _Optional[int] = ..., cltv_limit: _Optional[int] = ..., route_hints: _Optional[_Iterable[_Union[_lightning_pb2.RouteHint, _Mapping]]] = ..., dest_custom_records: _Optional[_Mapping[int, bytes]] = ..., amt_msat: _Optional[int] = ..., fee_limit_msat: _Optional[int] = ..., last_hop_pubkey: _Optional[bytes] = ..., allow_self_payment: _Optional[bool] = ..., dest_features: _Optional[_Iterable[_Union[_lightning_pb2.FeatureBit, str]]] = ..., max_parts: _Optional[int] = ..., no_inflight_updates: _Optional[bool] = ..., outgoing_chan_ids: _Optional[_Iterable[int]] = ..., payment_addr: _Optional[bytes] = ..., max_shard_size_msat: _Optional[int] = ..., amp: _Optional[bool] = ..., time_pref: _Optional[float] = ..., cancelable: _Optional[bool] = ..., first_hop_custom_records: _Optional[_Mapping[int, bytes]] = ...) -> None: ...

class TrackPaymentRequest(_message.Message):
    __slots__ = ("payment_hash", "no_inflight_updates")
    PAYMENT_HASH_FIELD_NUMBER: _ClassVar[int]
    NO_INFLIGHT_UPDATES_FIELD_NUMBER: _ClassVar[int]
    payment_hash: bytes
    no_inflight_updates: bool
    def __init__(self, payment_hash: _Optional[bytes] = ..., no_inflight_updates: _Optional[bool] = ...) -> None: ...

class RouteFeeRequest(_message.Message):
    __slots__ = ("dest", "amt_sat", "payment_request", "timeout")
    DEST_FIELD_NUMBER: _ClassVar[int]
    AMT_SAT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_REQUEST_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    dest: bytes
    amt_sat: int
    payment_request: str
    timeout: int
    def __init__(self, dest: _Optional[bytes] = ..., amt_sat: _Optional[int] = ..., payment_request: _Optional[str] = ..., timeout: _Optional[int] = ...) -> None: ...

class RouteFeeResponse(_message.Message):
    __slots__ = ("routing_fee_msat", "time_lock_delay", "failure_reason")
    ROUTING_FEE_MSAT_FIELD_NUMBER: _ClassVar[int]
    TIME_LOCK_DELAY_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    routing_fee_msat: int
    time_lock_delay: int
    failure_reason: _lightning_pb2.PaymentFailureReason
    def __init__(self, routing_fee_msat: _Optional[int] = ..., time_lock_delay: _Optional[int] = ..., failure_reason: _Optional[_Union[_lightning_pb2.PaymentFailureReason, str]] = ...) -> None: ...

class SendToRouteRequest(_message.Message):
    __slots__ = ("payment_hash", "route", "skip_temp_err", "first_hop_custom_records")
    class FirstHopCustomRecordsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: bytes
        def __init__(self, key: _Optional[int] = ..., value: _Optional[bytes] = ...) -> None: ...
    PAYMENT_HASH_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    SKIP_TEMP_ERR_FIELD_NUMBER: _ClassVar[int]
    FIRST_HOP_CUSTOM_RECORDS_FIELD_NUMBER: _ClassVar[int]
    payment_hash: bytes
    route: _lightning_pb2.Route
    skip_temp_err: bool
    first_hop_custom_records: _containers.ScalarMap[int, bytes]
    def __init__(self, payment_hash: _Optional[bytes] = ..., route: _Optional[_Union[_lightning_pb2.Route, _Mapping]] = ..., skip_temp_err: _Optional[bool] = ..., first_hop_custom_records: _Optional[_Mapping[int, bytes]] = ...) -> None: ...

class ResetMissionControlRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResetMissionControlResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryMissionControlRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryMissionControlResponse(_message.Message):
    __slots__ = ("pairs",)
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    pairs: _containers.RepeatedCompositeFieldContainer[PairHistory]
    def __init__(self, pairs: _Optional[_Iterable[_Union[PairHistory, _Mapping]]] = ...) -> None: ...

class PairHistory(_message.Message):
    __slots__ = ("node_from", "node_to", "history")
    NODE_FROM_FIELD_NUMBER: _ClassVar[int]
    NODE_TO_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    node_from: bytes
    node_to: bytes
    history: PairData
    def __init__(self, node_from: _Optional[bytes] = ..., node_to: _Optional[bytes] = ..., history: _Optional[_Union[PairData, _Mapping]] = ...) -> None: ...

class PairData(_message.Message):
    __slots__ = ("fail_time", "fail_amt_sat", "fail_amt_msat", "success_time", "success_amt_sat", "success_amt_msat")
    FAIL_TIME_FIELD_NUMBER: _ClassVar[int]
    FAIL_AMT_SAT_FIELD_NUMBER: _ClassVar[int]
    FAIL_AMT_MSAT_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_TIME_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_AMT_SAT_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_AMT_MSAT_FIELD_NUMBER: _ClassVar[int]
    fail_time: int
    fail_amt_sat: int
    fail_amt_msat: int
    success_time: int
    success_amt_sat: int
    success_amt_msat: int
    def __init__(self, fail_time: _Optional[int] = ..., fail_amt_sat: _Optional[int] = ..., fail_amt_msat: _Optional[int] = ..., success_time: _Optional[int] = ..., success_amt_sat: _Optional[int] = ..., success_amt_msat: _Optional[int] = ...) -> None: ...
