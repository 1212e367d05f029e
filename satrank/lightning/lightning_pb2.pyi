from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InvoiceHTLCState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCEPTED: _ClassVar[InvoiceHTLCState]
    SETTLED: _ClassVar[InvoiceHTLCState]
    CANCELED: _ClassVar[InvoiceHTLCState]

class FeatureBit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATALOSS_PROTECT_REQ: _ClassVar[FeatureBit]
    DATALOSS_PROTECT_OPT: _ClassVar[FeatureBit]
    INITIAL_ROUING_SYNC: _ClassVar[FeatureBit]
    UPFRONT_SHUTDOWN_SCRIPT_REQ: _ClassVar[FeatureBit]
    UPFRONT_SHUTDOWN_SCRIPT_OPT: _ClassVar[FeatureBit]
    GOSSIP_QUERIES_REQ: _ClassVar[FeatureBit]
    GOSSIP_QUERIES_OPT: _ClassVar[FeatureBit]
    TLV_ONION_REQ: _ClassVar[FeatureBit]
    TLV_ONION_OPT: _ClassVar[FeatureBit]
    EXT_GOSSIP_QUERIES_REQ: _ClassVar[FeatureBit]
    EXT_GOSSIP_QUERIES_OPT: _ClassVar[FeatureBit]
    STATIC_REMOTE_KEY_REQ: _ClassVar[FeatureBit]
    STATIC_REMOTE_KEY_OPT: _ClassVar[FeatureBit]
    PAYMENT_ADDR_REQ: _ClassVar[FeatureBit]
    PAYMENT_ADDR_OPT: _ClassVar[FeatureBit]
    MPP_REQ: _ClassVar[FeatureBit]
    MPP_OPT: _ClassVar[FeatureBit]
    WUMBO_CHANNELS_REQ: _ClassVar[FeatureBit]
    WUMBO_CHANNELS_OPT: _ClassVar[FeatureBit]
    ANCHORS_REQ: _ClassVar[FeatureBit]
    ANCHORS_OPT: _ClassVar[FeatureBit]
    ANCHORS_ZERO_FEE_HTLC_REQ: _ClassVar[FeatureBit]
    ANCHORS_ZERO_FEE_HTLC_OPT: _ClassVar[FeatureBit]
    ROUTE_BLINDING_REQUIRED: _ClassVar[FeatureBit]
    ROUTE_BLINDING_OPTIONAL: _ClassVar[FeatureBit]
    AMP_REQ: _ClassVar[FeatureBit]
    AMP_OPT: _ClassVar[FeatureBit]

class CommitmentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNKNOWN_COMMITMENT_TYPE: _ClassVar[CommitmentType]
    LEGACY: _ClassVar[CommitmentType]
    STATIC_REMOTE_KEY: _ClassVar[CommitmentType]
    ANCHORS: _ClassVar[CommitmentType]
    SCRIPT_ENFORCED_LEASE: _ClassVar[CommitmentType]
    SIMPLE_TAPROOT: _ClassVar[CommitmentType]
    SIMPLE_TAPROOT_OVERLAY: _ClassVar[CommitmentType]

class PaymentFailureReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FAILURE_REASON_NONE: _ClassVar[PaymentFailureReason]
    FAILURE_REASON_TIMEOUT: _ClassVar[PaymentFailureReason]
    FAILURE_REASON_NO_ROUTE: _ClassVar[PaymentFailureReason]
    FAILURE_REASON_ERROR: _ClassVar[PaymentFailureReason]
    FAILURE_REASON_INCORRECT_PAYMENT_DETAILS: _ClassVar[PaymentFailureReason]
    FAILURE_REASON_INSUFFICIENT_BALANCE: _ClassVar[PaymentFailureReason]
    FAILURE_REASON_CANCELED: _ClassVar[PaymentFailureReason]
ACCEPTED: InvoiceHTLCState
SETTLED: InvoiceHTLCState
CANCELED: InvoiceHTLCState
DATALOSS_PROTECT_REQ: FeatureBit
DATALOSS_PROTECT_OPT: FeatureBit
INITIAL_ROUING_SYNC: FeatureBit
UPFRONT_SHUTDOWN_SCRIPT_REQ: FeatureBit
UPFRONT_SHUTDOWN_SCRIPT_OPT: FeatureBit
GOSSIP_QUERIES_REQ: FeatureBit
GOSSIP_QUERIES_OPT: FeatureBit
TLV_ONION_REQ: FeatureBit
TLV_ONION_OPT: FeatureBit
EXT_GOSSIP_QUERIES_REQ: FeatureBit
EXT_GOSSIP_QUERIES_OPT: FeatureBit
STATIC_REMOTE_KEY_REQ: FeatureBit
STATIC_REMOTE_KEY_OPT: FeatureBit
PAYMENT_ADDR_REQ: FeatureBit
PAYMENT_ADDR_OPT: FeatureBit
MPP_REQ: FeatureBit
MPP_OPT: FeatureBit
WUMBO_CHANNELS_REQ: FeatureBit
WUMBO_CHANNELS_OPT: FeatureBit
ANCHORS_REQ: FeatureBit
ANCHORS_OPT: FeatureBit
ANCHORS_ZERO_FEE_HTLC_REQ: FeatureBit
ANCHORS_ZERO_FEE_HTLC_OPT: FeatureBit
ROUTE_BLINDING_REQUIRED: FeatureBit
ROUTE_BLINDING_OPTIONAL: FeatureBit
AMP_REQ: FeatureBit
AMP_OPT: FeatureBit
UNKNOWN_COMMITMENT_TYPE: CommitmentType
LEGACY: CommitmentType
STATIC_REMOTE_KEY: CommitmentType
ANCHORS: CommitmentType
SCRIPT_ENFORCED_LEASE: CommitmentType
SIMPLE_TAPROOT: CommitmentType
SIMPLE_TAPROOT_OVERLAY: CommitmentType
FAILURE_REASON_NONE: PaymentFailureReason
FAILURE_REASON_TIMEOUT: PaymentFailureReason
FAILURE_REASON_NO_ROUTE: PaymentFailureReason
FAILURE_REASON_ERROR: PaymentFailureReason
FAILURE_REASON_INCORRECT_PAYMENT_DETAILS: PaymentFailureReason
FAILURE_REASON_INSUFFICIENT_BALANCE: PaymentFailureReason
FAILURE_REASON_CANCELED: PaymentFailureReason

class GetInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetInfoResponse(_message.Message):
    __slots__ = ("identity_pubkey", "alias", "num_pending_channels", "num_active_channels", "num_peers", "block_height", "block_hash", "synced_to_chain", "testnet", "uris", "best_header_timestamp", "version", "num_inactive_channels", "chains", "color", "synced_to_graph", "features", "commit_hash", "require_htlc_interceptor", "store_final_htlc_resolutions")
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: Feature
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[Feature, _Mapping]] = ...) -> None: ...
    IDENTITY_PUBKEY_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    NUM_PENDING_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    NUM_ACTIVE_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    NUM_PEERS_FIELD_NUMBER: _ClassVar[int]
    BLOCK_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    BLOCK_HASH_FIELD_NUMBER: _ClassVar[int]
    SYNCED_TO_CHAIN_FIELD_NUMBER: _ClassVar[int]
    TESTNET_FIELD_NUMBER: _ClassVar[int]
    URIS_FIELD_NUMBER: _ClassVar[int]
    BEST_HEADER_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NUM_INACTIVE_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    CHAINS_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    SYNCED_TO_GRAPH_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    COMMIT_HASH_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_HTLC_INTERCEPTOR_FIELD_NUMBER: _ClassVar[int]
    STORE_FINAL_HTLC_RESOLUTIONS_FIELD_NUMBER: _ClassVar[int]
    identity_pubkey: str
    alias: str
    num_pending_channels: int
    num_active_channels: int
    num_peers: int
    block_height: int
    block_hash: str
    synced_to_chain: bool
    testnet: bool
    uris: _containers.RepeatedScalarFieldContainer[str]
    best_header_timestamp: int
    version: str
    num_inactive_channels: int
    chains: _containers.RepeatedCompositeFieldContainer[Chain]
    color: str
    synced_to_graph: bool
    features: _containers.MessageMap[int, Feature]
    commit_hash: str
    require_htlc_interceptor: bool
    store_final_htlc_resolutions: bool
    def __init__(self, identity_pubkey: _Optional[str] = ..., alias: _Optional[str] = ..., num_pending_channels: _Optional[int] = ..., num_active_channels: _Optional[int] = ..., num_peers: _Optional[int] = ..., block_height: _Optional[int] = ..., block_hash: _Optional[str] = ..., synced_to_chain: _Optional[bool] = ..., testnet: _Optional[bool] = ..., uris: _Optional[_Iterable[str]] = ..., best_header_timestamp: _Optional[int] = ..., version: _Optional[str] = ..., num_inactive_channels: _Optional[int] = ..., chains: _Optional[_Iterable[_Union[Chain, _Mapping]]] = ..., color: _Optional[str] = ..., synced_to_graph: _Optional[bool] = ..., features: _Optional[_Mapping[int, Feature]] = ..., commit_hash: _Optional[str] = ..., require_htlc_interceptor: _Optional[bool] = ..., store_final_htlc_resolutions: _Optional[bool] = ...) -> None: ...

class Chain(_message.Message):
    __slots__ = ("chain", "network")
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    chain: str
    network: str
    def __init__(self, chain: _Optional[str] = ..., network: _Optional[str] = ...) -> None: ...

class Feature(_message.Message):
    __slots__ = ("name", "is_required", "is_known")
    NAME_FIELD_NUMBER: _ClassVar[int]
    IS_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    IS_KNOWN_FIELD_NUMBER: _ClassVar[int]
    name: str
    is_required: bool
    is_known: bool
    def __init__(self, name: _Optional[str] = ..., is_required: _Optional[bool] = ..., is_known: _Optional[bool] = ...) -> None: ...

class ChannelGraphRequest(_message.Message):
    __slots__ = ("include_unannounced", "include_auth_proof")
    INCLUDE_UNANNOUNCED_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_AUTH_PROOF_FIELD_NUMBER: _ClassVar[int]
    include_unannounced: bool
    include_auth_proof: bool
    def __init__(self, include_unannounced: _Optional[bool] = ..., include_auth_proof: _Optional[bool] = ...) -> None: ...

class ChannelGraph(_message.Message):
    __slots__ = ("nodes", "edges")
    NODES_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[LightningNode]
    edges: _containers.RepeatedCompositeFieldContainer[ChannelEdge]
    def __init__(self, nodes: _Optional[_Iterable[_Union[LightningNode, _Mapping]]] = ..., edges: _Optional[_Iterable[_Union[ChannelEdge, _Mapping]]] = ...) -> None: ...

class LightningNode(_message.Message):
    __slots__ = ("last_update", "pub_key", "alias", "addresses", "color", "features", "custom_records")
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: Feature
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[Feature, _Mapping]] = ...) -> None: ...
    class CustomRecordsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: bytes
        def __init__(self, key: _Optional[int] = ..., value: _Optional[bytes] = ...) -> None: ...
    LAST_UPDATE_FIELD_NUMBER: _ClassVar[int]
    PUB_KEY_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_RECORDS_FIELD_NUMBER: _ClassVar[int]
    last_update: int
    pub_key: str
    alias: str
    addresses: _containers.RepeatedCompositeFieldContainer[NodeAddress]
    color: str
    features: _containers.MessageMap[int, Feature]
    custom_records: _containers.ScalarMap[int, bytes]
    def __init__(self, last_update: _Optional[int] = ..., pub_key: _Optional[str] = ..., alias: _Optional[str] = ..., addresses: _Optional[_Iterable[_Union[NodeAddress, _Mapping]]] = ..., color: _Optional[str] = ..., features: _Optional[_Mapping[int, Feature]] = ..., custom_records: _Optional[_Mapping[int, bytes]] = ...) -> None: ...

class NodeAddress(_message.Message):
    __slots__ = ("network", "addr")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    ADDR_FIELD_NUMBER: _ClassVar[int]
    network: str
    addr: str
    def __init__(self, network: _Optional[str] = ..., addr: _Optional[str] = ...) -> None: ...

class ChannelEdge(_message.Message):
    __slots__ = ("channel_id", "chan_point", "last_update", "node1_pub", "node2_pub", "capacity", "node1_policy", "node2_policy", "custom_records", "auth_proof")
    class CustomRecordsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: bytes
        def __init__(self, key: _Optional[int] = ..., value: _Optional[bytes] = ...) -> None: ...
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    CHAN_POINT_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_FIELD_NUMBER: _ClassVar[int]
    NODE1_PUB_FIELD_NUMBER: _ClassVar[int]
    NODE2_PUB_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    NODE1_POLICY_FIELD_NUMBER: _ClassVar[int]
    NODE2_POLICY_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_RECORDS_FIELD_NUMBER: _ClassVar[int]
    AUTH_PROOF_FIELD_NUMBER: _ClassVar[int]
    channel_id: int
    chan_point: str
    last_update: int
    node1_pub: str
    node2_pub: str
    capacity: int
    node1_policy: RoutingPolicy
    node2_policy: RoutingPolicy
    custom_records: _containers.ScalarMap[int, bytes]
    auth_proof: ChannelAuthProof
    def __init__(self, channel_id: _Optional[int] = ..., chan_point: _Optional[str] = ..., last_update: _Optional[int] = ..., node1_pub: _Optional[str] = ..., node2_pub: _Optional[str] = ..., capacity: _Optional[int] = ..., node1_policy: _Optional[_Union[RoutingPolicy, _Mapping]] = ..., node2_policy: _Optional[_Union[RoutingPolicy, _Mapping]] = ..., custom_records: _Optional[_Mapping[int, bytes]] = ..., auth_proof: _Optional[_Union[ChannelAuthProof, _Mapping]] = ...) -> None: ...

class RoutingPolicy(_message.Message):
    __slots__ = ("time_lock_delta", "min_htlc", "fee_base_msat", "fee_rate_milli_msat", "disabled", "max_htlc_msat", "last_update", "custom_records", "inbound_fee_base_msat", "inbound_fee_rate_milli_msat")
    class CustomRecordsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: bytes
        def __init__(self, key: _Optional[int] = ..., value: _Optional[bytes] = ...) -> None: ...
    TIME_LOCK_DELTA_FIELD_NUMBER: _ClassVar[int]
    MIN_HTLC_FIELD_NUMBER: _ClassVar[int]
    FEE_BASE_MSAT_FIELD_NUMBER: _ClassVar[int]
    FEE_RATE_MILLI_MSAT_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    MAX_HTLC_MSAT_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_RECORDS_FIELD_NUMBER: _ClassVar[int]
    INBOUND_FEE_BASE_MSAT_FIELD_NUMBER: _ClassVar[int]
    INBOUND_FEE_RATE_MILLI_MSAT_FIELD_NUMBER: _ClassVar[int]
    time_lock_delta: int
    min_htlc: int
    fee_base_msat: int
    fee_rate_milli_msat: int
    disabled: bool
    max_htlc_msat: int
    last_update: int
    custom_records: _containers.ScalarMap[int, bytes]
    inbound_fee_base_msat: int
    inbound_fee_rate_milli_msat: int
    def __init__(self, time_lock_delta: _Optional[int] = ..., min_htlc: _Optional[int] = ..., fee_base_msat: _Optional[int] = ..., fee_rate_milli_msat: _Optional[int] = ..., disabled: _Optional[bool] = ..., max_htlc_msat: _Optional[int] = ..., last_update: _Optional[int] = ..., custom_records: _Optional[_Mapping[int, bytes]] = ..., inbound_fee_base_msat: _Optional[int] = ..., inbound_fee_rate_milli_msat: _Optional[int] = ...) -> None: ...

class ChannelAuthProof(_message.Message):
    __slots__ = ("node_sig1", "bitcoin_sig1", "node_sig2", "bitcoin_sig2")
    NODE_SIG1_FIELD_NUMBER: _ClassVar[int]
    BITCOIN_SIG1_FIELD_NUMBER: _ClassVar[int]
    NODE_SIG2_FIELD_NUMBER: _ClassVar[int]
    BITCOIN_SIG2_FIELD_NUMBER: _ClassVar[int]
    node_sig1: bytes
    bitcoin_sig1: bytes
    node_sig2: bytes
    bitcoin_sig2: bytes
    def __init__(self, node_sig1: _Optional[bytes] = ..., bitcoin_sig1: _Optional[bytes] = ..., node_sig2: _Optional[bytes] = ..., bitcoin_sig2: _Optional[bytes] = ...) -> None: ...

class NodeInfoRequest(_message.Message):
    __slots__ = ("pub_key", "include_channels", "include_auth_proof")
    PUB_KEY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_AUTH_PROOF_FIELD_NUMBER: _ClassVar[int]
    pub_key: str
    include_channels: bool
    include_auth_proof: bool
    def __init__(self, pub_key: _Optional[str] = ..., include_channels: _Optional[bool] = ..., include_auth_proof: _Optional[bool] = ...) -> None: ...

class NodeInfo(_message.Message):
    __slots__ = ("node", "num_channels", "total_capacity", "channels")
    NODE_FIELD_NUMBER: _ClassVar[int]
    NUM_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    node: LightningNode
    num_channels: int
    total_capacity: int
    channels: _containers.RepeatedCompositeFieldContainer[ChannelEdge]
    def __init__(self, node: _Optional[_Union[LightningNode, _Mapping]] = ..., num_channels: _Optional[int] = ..., total_capacity: _Optional[int] = ..., channels: _Optional[_Iterable[_Union[ChannelEdge, _Mapping]]] = ...) -> None: ...

class ChanInfoRequest(_message.Message):
    __slots__ = ("chan_id", "chan_point", "include_auth_proof")
    CHAN_ID_FIELD_NUMBER: _ClassVar[int]
    CHAN_POINT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_AUTH_PROOF_FIELD_NUMBER: _ClassVar[int]
    chan_id: int
    chan_point: str
    include_auth_proof: bool
    def __init__(self, chan_id: _Optional[int] = ..., chan_point: _Optional[str] = ..., include_auth_proof: _Optional[bool] = ...) -> None: ...

class NetworkInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NetworkInfo(_message.Message):
    __slots__ = ("graph_diameter", "avg_out_degree", "max_out_degree", "num_nodes", "num_channels", "total_network_capacity", "avg_channel_size", "min_channel_size", "max_channel_size", "median_channel_size_sat", "num_zombie_chans")
    GRAPH_DIAMETER_FIELD_NUMBER: _ClassVar[int]
    AVG_OUT_DEGREE_FIELD_NUMBER: _ClassVar[int]
    MAX_OUT_DEGREE_FIELD_NUMBER: _ClassVar[int]
    NUM_NODES_FIELD_NUMBER: _ClassVar[int]
    NUM_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_NETWORK_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    AVG_CHANNEL_SIZE_FIELD_NUMBER: _ClassVar[int]
    MIN_CHANNEL_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_CHANNEL_SIZE_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_CHANNEL_SIZE_SAT_FIELD_NUMBER: _ClassVar[int]
    NUM_ZOMBIE_CHANS_FIELD_NUMBER: _ClassVar[int]
    graph_diameter: int
    avg_out_degree: float
    max_out_degree: int
    num_nodes: int
    num_channels: int
    total_network_capacity: int
    avg_channel_size: float
    min_channel_size: int
    max_channel_size: int
    median_channel_size_sat: int
    num_zombie_chans: int
    def __init__(self, graph_diameter: _Optional[int] = ..., avg_out_degree: _Optional[float] = ..., max_out_degree: _Optional[int] = ..., num_nodes: _Optional[int] = ..., num_channels: _Optional[int] = ..., total_network_capacity: _Optional[int] = ..., avg_channel_size: _Optional[float] = ..., min_channel_size: _Optional[int] = ..., max_channel_size: _Optional[int] = ..., median_channel_size_sat: _Optional[int] = ..., num_zombie_chans: _Optional[int] = ...) -> None: ...

class Invoice(_message.Message):
    __slots__ = ("memo", "r_preimage", "r_hash", "value", "settled", "creation_date", "settle_date", "payment_request", "description_hash", "expiry", "fallback_addr", "cltv_expiry", "route_hints", "private", "add_index", "settle_index", "amt_paid", "amt_paid_sat", "amt_paid_msat", "state", "htlcs", "value_msat", "features", "is_keysend", "payment_addr", "is_amp", "amp_invoice_state", "is_blinded", "blinded_path_config")
    class InvoiceState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OPEN: _ClassVar[Invoice.InvoiceState]
        SETTLED: _ClassVar[Invoice.InvoiceState]
        CANCELED: _ClassVar[Invoice.InvoiceState]
        ACCEPTED: _ClassVar[Invoice.InvoiceState]
    OPEN: Invoice.InvoiceState
    SETTLED: Invoice.InvoiceState
    CANCELED: Invoice.InvoiceState
    ACCEPTED: Invoice.InvoiceState
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: Feature
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[Feature, _Mapping]] = ...) -> None: ...
    class AmpInvoiceStateEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: AMPInvoiceState
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[AMPInvoiceState, _Mapping]] = ...) -> None: ...
    MEMO_FIELD_NUMBER: _ClassVar[int]
    R_PREIMAGE_FIELD_NUMBER: _ClassVar[int]
    R_HASH_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SETTLED_FIELD_NUMBER: _ClassVar[int]
    CREATION_DATE_FIELD_NUMBER: _ClassVar[int]
    SETTLE_DATE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_REQUEST_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_HASH_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_ADDR_FIELD_NUMBER: _ClassVar[int]
    CLTV_EXPIRY_FIELD_NUMBER: _ClassVar[int]
    ROUTE_HINTS_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_FIELD_NUMBER: _ClassVar[int]
    ADD_INDEX_FIELD_NUMBER: _ClassVar[int]
    SETTLE_INDEX_FIELD_NUMBER: _ClassVar[int]
    AMT_PAID_FIELD_NUMBER: _ClassVar[int]
    AMT_PAID_SAT_FIELD_NUMBER: _ClassVar[int]
    AMT_PAID_MSAT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    HTLCS_FIELD_NUMBER: _ClassVar[int]
    VALUE_MSAT_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    IS_KEYSEND_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ADDR_FIELD_NUMBER: _ClassVar[int]
    IS_AMP_FIELD_NUMBER: _ClassVar[int]
    AMP_INVOICE_STATE_FIELD_NUMBER: _ClassVar[int]
    IS_BLINDED_FIELD_NUMBER: _ClassVar[int]
    BLINDED_PATH_CONFIG_FIELD_NUMBER: _ClassVar[int]
    memo: str
    r_preimage: bytes
    r_hash: bytes
    value: int
    settled: bool
    creation_date: int
    settle_date: int
    payment_request: str
    description_hash: bytes
    expiry: int
    fallback_addr: str
    cltv_expiry: int
    route_hints: _containers.RepeatedCompositeFieldContainer[RouteHint]
    private: bool
    add_index: int
    settle_index: int
    amt_paid: int
    amt_paid_sat: int
    amt_paid_msat: int
    state: Invoice.InvoiceState
    htlcs: _containers.RepeatedCompositeFieldContainer[InvoiceHTLC]
    value_msat: int
    features: _containers.MessageMap[int, Feature]
    is_keysend: bool
    payment_addr: bytes
    is_amp: bool
    amp_invoice_state: _containers.MessageMap[str, AMPInvoiceState]
    is_blinded: bool
    blinded_path_config: BlindedPathConfig
    def __init__(self, memo: _Optional[str] = ..., r_preimage: _Optional[bytes] = ..., r_hash: _Optional[bytes] = ..., value: _Optional[int] = ..., settled: _Optional[bool] = ..., creation_date: _Optional[int] = ..., settle_date: _Optional[int] = ..., payment_request: _Optional[str] = ..., description_hash: _Optional[bytes] = ..., expiry: _Optional[int] = ..., fallback_addr: _Optional[str] = ..., cltv_expiry: _Optional[int] = ..., route_hints: _Optional[_Iterable[_Union[RouteHint, _Mapping]]] = ..., private: _Optional[bool] = ..., add_index: _Optional[int] = ..., settle_index: _Optional[int] = ..., amt_paid: _Optional[int] = ..., amt_paid_sat: _Optional[int] = ..., amt_paid_msat: _Optional[int] = ..., state: _Optional[_Union[Invoice.InvoiceState, str]] = ..., htlcs: _Optional[_Iterable[_Union[InvoiceHTLC, _Mapping]]] = ..., value_msat: _Optional[int] = ..., features: _Optional[_Mapping[int, Feature]] = ..., is_keysend: _Optional[bool] = ..., payment_addr: _Optional[bytes] = ..., is_amp: _Optional[bool] = ..., amp_invoice_state: _Optional[_Mapping[str, AMPInvoiceState]] = ..., is_blinded: _Optional[bool] = ..., blinded_path_config: _Optional[_Union[BlindedPathConfig, _Mapping]] = ...) -> None: ...

class BlindedPathConfig(_message.Message):
    __slots__ = ("min_num_real_hops", "num_hops", "max_num_paths", "node_omission_list", "incoming_channel_list")
    MIN_NUM_REAL_HOPS_FIELD_NUMBER: _ClassVar[int]
    NUM_HOPS_FIELD_NUMBER: _ClassVar[int]
    MAX_NUM_PATHS_FIELD_NUMBER: _ClassVar[int]
    NODE_OMISSION_LIST_FIELD_NUMBER: _ClassVar[int]
    INCOMING_CHANNEL_LIST_FIELD_NUMBER: _ClassVar[int]
    min_num_real_hops: int
    num_hops: int
    max_num_paths: int
    node_omission_list: _containers.RepeatedScalarFieldContainer[bytes]
    incoming_channel_list: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, min_num_real_hops: _Optional[int] = ..., num_hops: _Optional[int] = ..., max_num_paths: _Optional[int] = ..., node_omission_list: _Optional[_Iterable[bytes]] = ..., incoming_channel_list: _Optional[_Iterable[int]] = ...) -> None: ...

class InvoiceHTLC(_message.Message):
    __slots__ = ("chan_id", "htlc_index", "amt_msat", "accept_height", "accept_time", "resolve_time", "expiry_height", "state", "custom_records", "mpp_total_amt_msat", "amp", "custom_channel_data")
    class CustomRecordsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: bytes
        def __init__(self, key: _Optional[int] = ..., value: _Optional[bytes] = ...) -> None: ...
    CHAN_ID_FIELD_NUMBER: _ClassVar[int]
    HTLC_INDEX_FIELD_NUMBER: _ClassVar[int]
    AMT_MSAT_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_TIME_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_RECORDS_FIELD_NUMBER: _ClassVar[int]
    MPP_TOTAL_AMT_MSAT_FIELD_NUMBER: _ClassVar[int]
    AMP_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_CHANNEL_DATA_FIELD_NUMBER: _ClassVar[int]
    chan_id: int
    htlc_index: int
    amt_msat: int
    accept_height: int
    accept_time: int
    resolve_time: int
    expiry_height: int
    state: InvoiceHTLCState
    custom_records: _containers.ScalarMap[int, bytes]
    mpp_total_amt_msat: int
    amp: AMP
    custom_channel_data: bytes
    def __init__(self, chan_id: _Optional[int] = ..., htlc_index: _Optional[int] = ..., amt_msat: _Optional[int] = ..., accept_height: _Optional[int] = ..., accept_time: _Optional[int] = ..., resolve_time: _Optional[int] = ..., expiry_height: _Optional[int] = ..., state: _Optional[_Union[InvoiceHTLCState, str]] = ..., custom_records: _Optional[_Mapping[int, bytes]] = ..., mpp_total_amt_msat: _Optional[int] = ..., amp: _Optional[_Union[AMP, _Mapping]] = ..., custom_channel_data: _Optional[bytes] = ...) -> None: ...

class AMP(_message.Message):
    __slots__ = ("root_share", "set_id", "child_index", "hash", "preimage")
    ROOT_SHARE_FIELD_NUMBER: _ClassVar[int]
    SET_ID_FIELD_NUMBER: _ClassVar[int]
    CHILD_INDEX_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    PREIMAGE_FIELD_NUMBER: _ClassVar[int]
    root_share: bytes
    set_id: bytes
    child_index: int
    hash: bytes
    preimage: bytes
    def __init__(self, root_share: _Optional[bytes] = ..., set_id: _Optional[bytes] = ..., child_index: _Optional[int] = ..., hash: _Optional[bytes] = ..., preimage: _Optional[bytes] = ...) -> None: ...

class AMPInvoiceState(_message.Message):
    __slots__ = ("state", "settle_index", "settle_time", "amt_paid_msat")
    STATE_FIELD_NUMBER: _ClassVar[int]
    SETTLE_INDEX_FIELD_NUMBER: _ClassVar[int]
    SETTLE_TIME_FIELD_NUMBER: _ClassVar[int]
    AMT_PAID_MSAT_FIELD_NUMBER: _ClassVar[int]
    state: InvoiceHTLCState
    settle_index: int
    settle_time: int
    amt_paid_msat: int
    def __init__(self, state: _Optional[_Union[InvoiceHTLCState, str]] = ..., settle_index: _Optional[int] = ..., settle_time: _Optional[int] = ..., amt_paid_msat: _Optional[int] = ...) -> None: ...

class AddInvoiceResponse(_message.Message):
    __slots__ = ("r_hash", "payment_request", "add_index", "payment_addr")
    R_HASH_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_REQUEST_FIELD_NUMBER: _ClassVar[int]
    ADD_INDEX_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ADDR_FIELD_NUMBER: _ClassVar[int]
    r_hash: bytes
    payment_request: str
    add_index: int
    payment_addr: bytes
    def __init__(self, r_hash: _Optional[bytes] = ..., payment_request: _Optional[str] = ..., add_index: _Optional[int] = ..., payment_addr: _Optional[bytes] = ...) -> None: ...

class PaymentHash(_message.Message):
    __slots__ = ("r_hash_str", "r_hash")
    R_HASH_STR_FIELD_NUMBER: _ClassVar[int]
    R_HASH_FIELD_NUMBER: _ClassVar[int]
    r_hash_str: str
    r_hash: bytes
    def __init__(self, r_hash_str: _Optional[str] = ..., r_hash: _Optional[bytes] = ...) -> None: ...

class InvoiceSubscription(_message.Message):
    __slots__ = ("add_index", "settle_index")
    ADD_INDEX_FIELD_NUMBER: _ClassVar[int]
    SETTLE_INDEX_FIELD_NUMBER: _ClassVar[int]
    add_index: int
    settle_index: int
    def __init__(self, add_index: _Optional[int] = ..., settle_index: _Optional[int] = ...) -> None: ...

class RouteHint(_message.Message):
    __slots__ = ("hop_hints",)
    HOP_HINTS_FIELD_NUMBER: _ClassVar[int]
    hop_hints: _containers.RepeatedCompositeFieldContainer[HopHint]
    def __init__(self, hop_hints: _Optional[_Iterable[_Union[HopHint, _Mapping]]] = ...) -> None: ...

class HopHint(_message.Message):
    __slots__ = ("node_id", "chan_id", "fee_base_msat", "fee_proportional_millionths", "cltv_expiry_delta")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    CHAN_ID_FIELD_NUMBER: _ClassVar[int]
    FEE_BASE_MSAT_FIELD_NUMBER: _ClassVar[int]
    FEE_PROPORTIONAL_MILLIONTHS_FIELD_NUMBER: _ClassVar[int]
    CLTV_EXPIRY_DELTA_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    chan_id: int
    fee_base_msat: int
    fee_proportional_millionths: int
    cltv_expiry_delta: int
    def __init__(self, node_id: _Optional[str] = ..., chan_id: _Optional[int] = ..., fee_base_msat: _Optional[int] = ..., fee_proportional_millionths: _Optional[int] = ..., cltv_expiry_delta: _Optional[int] = ...) -> None: ...

class PayReqString(_message.Message):
    __slots__ = ("pay_req",)
    PAY_REQ_FIELD_NUMBER: _ClassVar[int]
    pay_req: str
    def __init__(self, pay_req: _Optional[str] = ...) -> None: ...

class PayReq(_message.Message):
    __slots__ = ("destination", "payment_hash", "num_satoshis", "timestamp", "expiry", "description", "description_hash", "fallback_addr", "cltv_expiry", "route_hints", "payment_addr", "num_msat", "features", "blinded_paths")
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: Feature
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[Feature, _Mapping]] = ...) -> None: ...
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_HASH_FIELD_NUMBER: _ClassVar[int]
    NUM_SATOSHIS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_HASH_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_ADDR_FIELD_NUMBER: _ClassVar[int]
    CLTV_EXPIRY_FIELD_NUMBER: _ClassVar[int]
    ROUTE_HINTS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ADDR_FIELD_NUMBER: _ClassVar[int]
    NUM_MSAT_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    BLINDED_PATHS_FIELD_NUMBER: _ClassVar[int]
    destination: str
    payment_hash: str
    num_satoshis: int
    timestamp: int
    expiry: int
    description: str
    description_hash: str
    fallback_addr: str
    cltv_expiry: int
    route_hints: _containers.RepeatedCompositeFieldContainer[RouteHint]
    payment_addr: bytes
    num_msat: int
    features: _containers.MessageMap[int, Feature]
    blinded_paths: _containers.RepeatedCompositeFieldContainer[BlindedPaymentPath]
    def __init__(self, destination: _Optional[str] = ..., payment_hash: _Optional[str] = ..., num_satoshis: _Optional[int] = ..., timestamp: _Optional[int] = ..., expiry: _Optional[int] = ..., description: _Optional[str] = ..., description_hash: _Optional[str] = ..., fallback_addr: _Optional[str] = ..., cltv_expiry: _Optional[int] = ..., route_hints: _Optional[_Iterable[_Union[RouteHint, _Mapping]]] = ..., payment_addr: _Optional[bytes] = ..., num_msat: _Optional[int] = ..., features: _Optional[_Mapping[int, Feature]] = ..., blinded_paths: _Optional[_Iterable[_Union[BlindedPaymentPath, _Mapping]]] = ...) -> None: ...

class BlindedPaymentPath(_message.Message):
    __slots__ = ("blinded_path", "base_fee_msat", "proportional_fee_rate", "total_cltv_delta", "htlc_min_msat", "htlc_max_msat", "features")
    BLINDED_PATH_FIELD_NUMBER: _ClassVar[int]
    BASE_FEE_MSAT_FIELD_NUMBER: _ClassVar[int]
    PROPORTIONAL_FEE_RATE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CLTV_DELTA_FIELD_NUMBER: _ClassVar[int]
    HTLC_MIN_MSAT_FIELD_NUMBER: _ClassVar[int]
    HTLC_MAX_MSAT_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    blinded_path: BlindedPath
    base_fee_msat: int
    proportional_fee_rate: int
    total_cltv_delta: int
    htlc_min_msat: int
    htlc_max_msat: int
    features: _containers.RepeatedScalarFieldContainer[FeatureBit]
    def __init__(self, blinded_path: _Optional[_Union[BlindedPath, _Mapping]] = ..., base_fee_msat: _Optional[int] = ..., proportional_fee_rate: _Optional[int] = ..., total_cltv_delta: _Optional[int] = ..., htlc_min_msat: _Optional[int] = ..., htlc_max_msat: _Optional[int] = ..., features: _Optional[_Iterable[_Union[FeatureBit, str]]] = ...) -> None: ...

class BlindedPath(_message.Message):
    __slots__ = ("introduction_node", "blinding_point", "blinded_hops")
    INTRODUCTION_NODE_FIELD_NUMBER: _ClassVar[int]
    BLINDING_POINT_FIELD_NUMBER: _ClassVar[int]
    BLINDED_HOPS_FIELD_NUMBER: _ClassVar[int]
    introduction_node: bytes
    blinding_point: bytes
    blinded_hops: _containers.RepeatedCompositeFieldContainer[BlindedHop]
    def __init__(self, introduction_node: _Optional[bytes] = ..., blinding_point: _Optional[bytes] = ..., blinded_hops: _Optional[_Iterable[_Union[BlindedHop, _Mapping]]] = ...) -> None: ...

class BlindedHop(_message.Message):
    __slots__ = ("blinded_node", "encrypted_data")
    BLINDED_NODE_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTED_DATA_FIELD_NUMBER: _ClassVar[int]
    blinded_node: bytes
    encrypted_data: bytes
    def __init__(self, blinded_node: _Optional[bytes] = ..., encrypted_data: _Optional[bytes] = ...) -> None: ...

class QueryRoutesRequest(_message.Message):
    __slots__ = ("pub_key", "amt", "final_cltv_delta", "fee_limit", "ignored_nodes", "ignored_edges", "source_pub_key", "use_mission_control", "ignored_pairs", "cltv_limit", "amt_msat", "dest_custom_records", "outgoing_chan_id", "last_hop_pubkey", "route_hints", "dest_features", "time_pref", "blinded_payment_paths", "outgoing_chan_ids")
    class DestCustomRecordsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: bytes
        def __init__(self, key: _Optional[int] = ..., value: _Optional[bytes] = ...) -> None: ...
    PUB_KEY_FIELD_NUMBER: _ClassVar[int]
    AMT_FIELD_NUMBER: _ClassVar[int]
    FINAL_CLTV_DELTA_FIELD_NUMBER: _ClassVar[int]
    FEE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    IGNORED_NODES_FIELD_NUMBER: _ClassVar[int]
    IGNORED_EDGES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PUB_KEY_FIELD_NUMBER: _ClassVar[int]
    USE_MISSION_CONTROL_FIELD_NUMBER: _ClassVar[int]
    IGNORED_PAIRS_FIELD_NUMBER: _ClassVar[int]
    CLTV_LIMIT_FIELD_NUMBER: _ClassVar[int]
    AMT_MSAT_FIELD_NUMBER: _ClassVar[int]
    DEST_CUSTOM_RECORDS_FIELD_NUMBER: _ClassVar[int]
    OUTGOING_CHAN_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_HOP_PUBKEY_FIELD_NUMBER: _ClassVar[int]
    ROUTE_HINTS_FIELD_NUMBER: _ClassVar[int]
    DEST_FEATURES_FIELD_NUMBER: _ClassVar[int]
    TIME_PREF_FIELD_NUMBER: _ClassVar[int]
    BLINDED_PAYMENT_PATHS_FIELD_NUMBER: _ClassVar[int]
    OUTGOING_CHAN_IDS_FIELD_NUMBER: _ClassVar[int]
    pub_key: str
    amt: int
    final_cltv_delta: int
    fee_limit: FeeLimit
    ignored_nodes: _containers.RepeatedScalarFieldContainer[bytes]
    ignored_edges: _containers.RepeatedCompositeFieldContainer[EdgeLocator]
    source_pub_key: str
    use_mission_control: bool
    ignored_pairs: _containers.RepeatedCompositeFieldContainer[NodePair]
    cltv_limit: int
    amt_msat: int
    dest_custom_records: _containers.ScalarMap[int, bytes]
    outgoing_chan_id: int
    last_hop_pubkey: bytes
    route_hints: _containers.RepeatedCompositeFieldContainer[RouteHint]
    dest_features: _containers.RepeatedScalarFieldContainer[FeatureBit]
    time_pref: float
    blinded_payment_paths: _containers.RepeatedCompositeFieldContainer[BlindedPaymentPath]
    outgoing_chan_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, pub_key: _Optional[str] = ..., amt: _Optional[int] = ..., final_cltv_delta: _Optional[int] = ..., fee_limit: _Optional[_Union[FeeLimit, _Mapping]] = ..., ignored_nodes: _Optional[_Iterable[bytes]] = ..., ignored_edges: _Optional[_Iterable[_Union[EdgeLocator, _Mapping]]] = ..., source_pub_key: _Optional[str] = ..., use_mission_control: _Optional[bool] = ..., ignored_pairs: _Optional[_Iterable[_Union[NodePair, _Mapping]]] = ..., cltv_limit: _Optional[int] = ..., amt_msat: _Optional[int] = ..., dest_custom_records: _Optional[_Mapping[int, bytes]] = ..., outgoing_chan_id: _Optional[int] = ..., last_hop_pubkey: _Optional[bytes] = ..., route_hints: _Optional[_Iterable[_Union[RouteHint, _Mapping]]] = ..., dest_features: _Optional[_Iterable[_Union[FeatureBit, str]]] = ..., time_pref: _Optional[float] = ..., blinded_payment_paths: _Optional[_Iterable[_Union[BlindedPaymentPath, _Mapping]]] = ..., outgoing_chan_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class FeeLimit(_message.Message):
    __slots__ = ("fixed", "fixed_msat", "percent")
    FIXED_FIELD_NUMBER: _ClassVar[int]
    FIXED_MSAT_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    fixed: int
    fixed_msat: int
    percent: int
    def __init__(self, fixed: _Optional[int] = ..., fixed_msat: _Optional[int] = ..., percent: _Optional[int] = ...) -> None: ...

class EdgeLocator(_message.Message):
    __slots__ = ("channel_id", "direction_reverse")
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_REVERSE_FIELD_NUMBER: _ClassVar[int]
    channel_id: int
    direction_reverse: bool
    def __init__(self, channel_id: _Optional[int] = ..., direction_reverse: _Optional[bool] = ...) -> None: ...

class NodePair(_message.Message):
    __slots__ = ("to",)
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: bytes
    def __init__(self, to: _Optional[bytes] = ..., **kwargs) -> None: ...

class QueryRoutesResponse(_message.Message):
    __slots__ = ("routes", "success_prob")
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_PROB_FIELD_NUMBER: _ClassVar[int]
    routes: _containers.RepeatedCompositeFieldContainer[Route]
    success_prob: float
    def __init__(self, routes: _Optional[_Iterable[_Union[Route, _Mapping]]] = ..., success_prob: _Optional[float] = ...) -> None: ...

class Route(_message.Message):
    __slots__ = ("total_time_lock", "total_fees", "total_amt", "hops", "total_fees_msat", "total_amt_msat", "first_hop_amount_msat", "custom_channel_data")
    TOTAL_TIME_LOCK_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FEES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_AMT_FIELD_NUMBER: _ClassVar[int]
    HOPS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FEES_MSAT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_AMT_MSAT_FIELD_NUMBER: _ClassVar[int]
    FIRST_HOP_AMOUNT_MSAT_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_CHANNEL_DATA_FIELD_NUMBER: _ClassVar[int]
    total_time_lock: int
    total_fees: int
    total_amt: int
    hops: _containers.RepeatedCompositeFieldContainer[Hop]
    total_fees_msat: int
    total_amt_msat: int
    first_hop_amount_msat: int
    custom_channel_data: bytes
    def __init__(self, total_time_lock: _Optional[int] = ..., total_fees: _Optional[int] = ..., total_amt: _Optional[int] = ..., hops: _Optional[_Iterable[_Union[Hop, _Mapping]]] = ..., total_fees_msat: _Optional[int] = ..., total_amt_msat: _Optional[int] = ..., first_hop_amount_msat: _Optional[int] = ..., custom_channel_data: _Optional[bytes] = ...) -> None: ...

class Hop(_message.Message):
    __slots__ = ("chan_id", "chan_capacity", "amt_to_forward", "fee", "expiry", "amt_to_forward_msat", "fee_msat", "pub_key", "tlv_payload", "mpp_record", "custom_records", "amp_record", "metadata", "blinding_point", "encrypted_data", "total_amt_msat")
    class CustomRecordsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: bytes
        def __init__(self, key: _Optional[int] = ..., value: _Optional[bytes] = ...) -> None: ...
    CHAN_ID_FIELD_NUMBER: _ClassVar[int]
    CHAN_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    AMT_TO_FORWARD_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_FIELD_NUMBER: _ClassVar[int]
    AMT_TO_FORWARD_MSAT_FIELD_NUMBER: _ClassVar[int]
    FEE_MSAT_FIELD_NUMBER: _ClassVar[int]
    PUB_KEY_FIELD_NUMBER: _ClassVar[int]
    TLV_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    MPP_RECORD_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_RECORDS_FIELD_NUMBER: _ClassVar[int]
    AMP_RECORD_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    BLINDING_POINT_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTED_DATA_FIELD_NUMBER: _ClassVar[int]
    TOTAL_AMT_MSAT_FIELD_NUMBER: _ClassVar[int]
    chan_id: int
    chan_capacity: int
    amt_to_forward: int
    fee: int
    expiry: int
    amt_to_forward_msat: int
    fee_msat: int
    pub_key: str
    tlv_payload: bool
    mpp_record: MPPRecord
    custom_records: _containers.ScalarMap[int, bytes]
    amp_record: AMPRecord
    metadata: bytes
    blinding_point: bytes
    encrypted_data: bytes
    total_amt_msat: int
    def __init__(self, chan_id: _Optional[int] = ..., chan_capacity: _Optional[int] = ..., amt_to_forward: _Optional[int] = ..., fee: _Optional[int] = ..., expiry: _Optional[int] = ..., amt_to_forward_msat: _Optional[int] = ..., fee_msat: _Optional[int] = ..., pub_key: _Optional[str] = ..., tlv_payload: _Optional[bool] = ..., mpp_record: _Optional[_Union[MPPRecord, _Mapping]] = ..., custom_records: _Optional[_Mapping[int, bytes]] = ..., amp_record: _Optional[_Union[AMPRecord, _Mapping]] = ..., metadata: _Optional[bytes] = ..., blinding_point: _Optional[bytes] = ..., encrypted_data: _Optional[bytes] = ..., total_amt_msat: _Optional[int] = ...) -> None: ...

class MPPRecord(_message.Message):
    __slots__ = ("total_amt_msat", "payment_addr")
    TOTAL_AMT_MSAT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ADDR_FIELD_NUMBER: _ClassVar[int]
    total_amt_msat: int
    payment_addr: bytes
    def __init__(self, total_amt_msat: _Optional[int] = ..., payment_addr: _Optional[bytes] = ...) -> None: ...

class AMPRecord(_message.Message):
    __slots__ = ("root_share", "set_id", "child_index")
    ROOT_SHARE_FIELD_NUMBER: _ClassVar[int]
    SET_ID_FIELD_NUMBER: _ClassVar[int]
    CHILD_INDEX_FIELD_NUMBER: _ClassVar[int]
    root_share: bytes
    set_id: bytes
    child_index: int
    def __init__(self, root_share: _Optional[bytes] = ..., set_id: _Optional[bytes] = ..., child_index: _Optional[int] = ...) -> None: ...

class ListChannelsRequest(_message.Message):
    __slots__ = ("active_only", "inactive_only", "public_only", "private_only", "peer", "peer_alias_lookup")
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_ONLY_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    PEER_ALIAS_LOOKUP_FIELD_NUMBER: _ClassVar[int]
    active_only: bool
    inactive_only: bool
    public_only: bool
    private_only: bool
    peer: bytes
    peer_alias_lookup: bool
    def __init__(self, active_only: _Optional[bool] = ..., inactive_only: _Optional[bool] = ..., public_only: _Optional[bool] = ..., private_only: _Optional[bool] = ..., peer: _Optional[bytes] = ..., peer_alias_lookup: _Optional[bool] = ...) -> None: ...

class ListChannelsResponse(_message.Message):
    __slots__ = ("channels",)
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    channels: _containers.RepeatedCompositeFieldContainer[Channel]
    def __init__(self, channels: _Optional[_Iterable[_Union[Channel, _Mapping]]] = ...) -> None: ...

class Channel(_message.Message):
    __slots__ = ("active", "remote_pubkey", "channel_point", "chan_id", "capacity", "local_balance", "remote_balance", "commit_fee", "commit_weight", "fee_per_kw", "unsettled_balance", "total_satoshis_sent", "total_satoshis_received", "num_updates", "pending_htlcs", "csv_delay", "private", "initiator", "chan_status_flags", "local_chan_reserve_sat", "remote_chan_reserve_sat", "static_remote_key", "lifetime", "uptime", "close_address", "commitment_type", "push_amount_sat", "thaw_height", "local_constraints", "remote_constraints", "alias_scids", "zero_conf", "zero_conf_confirmed_scid", "peer_alias", "peer_scid_alias", "memo", "custom_channel_data")
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    REMOTE_PUBKEY_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_POINT_FIELD_NUMBER: _ClassVar[int]
    CHAN_ID_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    LOCAL_BALANCE_FIELD_NUMBER: _ClassVar[int]
    REMOTE_BALANCE_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FEE_FIELD_NUMBER: _ClassVar[int]
    COMMIT_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    FEE_PER_KW_FIELD_NUMBER: _ClassVar[int]
    UNSETTLED_BALANCE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SATOSHIS_SENT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SATOSHIS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    NUM_UPDATES_FIELD_NUMBER: _ClassVar[int]
    PENDING_HTLCS_FIELD_NUMBER: _ClassVar[int]
    CSV_DELAY_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_FIELD_NUMBER: _ClassVar[int]
    CHAN_STATUS_FLAGS_FIELD_NUMBER: _ClassVar[int]
    LOCAL_CHAN_RESERVE_SAT_FIELD_NUMBER: _ClassVar[int]
    REMOTE_CHAN_RESERVE_SAT_FIELD_NUMBER: _ClassVar[int]
    STATIC_REMOTE_KEY_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_FIELD_NUMBER: _ClassVar[int]
    UPTIME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    COMMITMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PUSH_AMOUNT_SAT_FIELD_NUMBER: _ClassVar[int]
    THAW_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    LOCAL_CONSTRAINTS_FIELD_NUMBER: _ClassVar[int]
    REMOTE_CONSTRAINTS_FIELD_NUMBER: _ClassVar[int]
    ALIAS_SCIDS_FIELD_NUMBER: _ClassVar[int]
    ZERO_CONF_FIELD_NUMBER: _ClassVar[int]
    ZERO_CONF_CONFIRMED_SCID_FIELD_NUMBER: _ClassVar[int]
    PEER_ALIAS_FIELD_NUMBER: _ClassVar[int]
    PEER_SCID_ALIAS_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_CHANNEL_DATA_FIELD_NUMBER: _ClassVar[int]
    active: bool
    remote_pubkey: str
    channel_point: str
    chan_id: int
    capacity: int
    local_balance: int
    remote_balance: int
    commit_fee: int
    commit_weight: int
    fee_per_kw: int
    unsettled_balance: int
    total_satoshis_sent: int
    total_satoshis_received: int
    num_updates: int
    pending_htlcs: _containers.RepeatedCompositeFieldContainer[HTLC]
    csv_delay: int
    private: bool
    initiator: bool
    chan_status_flags: str
    local_chan_reserve_sat: int
    remote_chan_reserve_sat: int
    static_remote_key: bool
    lifetime: int
    uptime: int
    close_address: str
    commitment_type: CommitmentType
    push_amount_sat: int
    thaw_height: int
    local_constraints: ChannelConstraints
    remote_constraints: ChannelConstraints
    alias_scids: _containers.RepeatedScalarFieldContainer[int]
    zero_conf: bool
    zero_conf_confirmed_scid: int
    peer_alias: str
    peer_scid_alias: int
    memo: str
    custom_channel_data: bytes
    def __init__(self, active: _Optional[bool] = ..., remote_pubkey: _Optional[str] = ..., channel_point: _Optional[str] = ..., chan_id: _Optional[int] = ..., capacity: _Optional[int] = ..., local_balance: _Optional[int] = ..., remote_balance: _Optional[int] = ..., commit_fee: _Optional[int] = ..., commit_weight: _Optional[int] = ..., fee_per_kw: _Optional[int] = ..., unsettled_balance: _Optional[int] = ..., total_satoshis_sent: _Optional[int] = ..., total_satoshis_received: _Optional[int] = ..., num_updates: _Optional[int] = ..., pending_htlcs: _Optional[_Iterable[_Union[HTLC, _Mapping]]] = ..., csv_delay: _Optional[int] = ..., private: _Optional[bool] = ..., initiator: _Optional[bool] = ..., chan_status_flags: _Optional[str] = ..., local_chan_reserve_sat: _Optional[int] = ..., remote_chan_reserve_sat: _Optional[int] = ..., static_remote_key: _Optional[bool] = ..., lifetime: _Optional[int] = ..., uptime: _Optional[int] = ..., close_address: _Optional[str] = ..., commitment_type: _Optional[_Union[CommitmentType, str]] = ..., push_amount_sat: _Optional[int] = ..., thaw_height: _Optional[int] = ..., local_constraints: _Optional[_Union[ChannelConstraints, _Mapping]] = ..., remote_constraints: _Optional[_Union[ChannelConstraints, _Mapping]] = ..., alias_scids: _Optional[_Iterable[int]] = ..., zero_conf: _Optional[bool] = ..., zero_conf_confirmed_scid: _Optional[int] = ..., peer_alias: _Optional[str] = ..., peer_scid_alias: _Optional[int] = ..., memo: _Optional[str] = ..., custom_channel_data: _Optional[bytes] = ...) -> None: ...

class HTLC(_message.Message):
    __slots__ = ("incoming", "amount", "hash_lock", "expiration_height", "htlc_index", "forwarding_channel", "forwarding_htlc_index", "locked_in")
    INCOMING_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    HASH_LOCK_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    HTLC_INDEX_FIELD_NUMBER: _ClassVar[int]
    FORWARDING_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    FORWARDING_HTLC_INDEX_FIELD_NUMBER: _ClassVar[int]
    LOCKED_IN_FIELD_NUMBER: _ClassVar[int]
    incoming: bool
    amount: int
    hash_lock: bytes
    expiration_height: int
    htlc_index: int
    forwarding_channel: int
    forwarding_htlc_index: int
    locked_in: bool
    def __init__(self, incoming: _Optional[bool] = ..., amount: _Optional[int] = ..., hash_lock: _Optional[bytes] = ..., expiration_height: _Optional[int] = ..., htlc_index: _Optional[int] = ..., forwarding_channel: _Optional[int] = ..., forwarding_htlc_index: _Optional[int] = ..., locked_in: _Optional[bool] = ...) -> None: ...

class ChannelConstraints(_message.Message):
    __slots__ = ("csv_delay", "chan_reserve_sat", "dust_limit_sat", "max_pending_amt_msat", "min_htlc_msat", "max_accepted_htlcs")
    CSV_DELAY_FIELD_NUMBER: _ClassVar[int]
    CHAN_RESERVE_SAT_FIELD_NUMBER: _ClassVar[int]
    DUST_LIMIT_SAT_FIELD_NUMBER: _ClassVar[int]
    MAX_PENDING_AMT_MSAT_FIELD_NUMBER: _ClassVar[int]
    MIN_HTLC_MSAT_FIELD_NUMBER: _ClassVar[int]
    MAX_ACCEPTED_HTLCS_FIELD_NUMBER: _ClassVar[int]
    csv_delay: int
    chan_reserve_sat: int
    dust_limit_sat: int
    max_pending_amt_msat: int
    min_htlc_msat: int
    max_accepted_htlcs: int
    def __init__(self, csv_delay: _Optional[int] = ..., chan_reserve_sat: _Optional[int] = ..., dust_limit_sat: _Optional[int] = ..., max_pending_amt_msat: _Optional[int] = ..., min_htlc_msat: _Optional[int] = ..., max_accepted_htlcs: _Optional[int] = ...) -> None: ...

class ChannelBalanceRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ChannelBalanceResponse(_message.Message):
    __slots__ = ("balance", "pending_open_balance", "local_balance", "remote_balance", "unsettled_local_balance", "unsettled_remote_balance", "pending_open_local_balance", "pending_open_remote_balance", "custom_channel_data")
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    PENDING_OPEN_BALANCE_FIELD_NUMBER: _ClassVar[int]
    LOCAL_BALANCE_FIELD_NUMBER: _ClassVar[int]
    REMOTE_BALANCE_FIELD_NUMBER: _ClassVar[int]
    UNSETTLED_LOCAL_BALANCE_FIELD_NUMBER: _ClassVar[int]
    UNSETTLED_REMOTE_BALANCE_FIELD_NUMBER: _ClassVar[int]
    PENDING_OPEN_LOCAL_BALANCE_FIELD_NUMBER: _ClassVar[int]
    PENDING_OPEN_REMOTE_BALANCE_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_CHANNEL_DATA_FIELD_NUMBER: _ClassVar[int]
    balance: int
    pending_open_balance: int
    local_balance: Amount
    remote_balance: Amount
    unsettled_local_balance: Amount
    unsettled_remote_balance: Amount
    pending_open_local_balance: Amount
    pending_open_remote_balance: Amount
    custom_channel_data: bytes
    def __init__(self, balance: _Optional[int] = ..., pending_open_balance: _Optional[int] = ..., local_balance: _Optional[_Union[Amount, _Mapping]] = ..., remote_balance: _Optional[_Union[Amount, _Mapping]] = ..., unsettled_local_balance: _Optional[_Union[Amount, _Mapping]] = ..., unsettled_remote_balance: _Optional[_Union[Amount, _Mapping]] = ..., pending_open_local_balance: _Optional[_Union[Amount, _Mapping]] = ..., pending_open_remote_balance: _Optional[_Union[Amount, _Mapping]] = ..., custom_channel_data: _Optional[bytes] = ...) -> None: ...

class Amount(_message.Message):
    __slots__ = ("sat", "msat")
    SAT_FIELD_NUMBER: _ClassVar[int]
    MSAT_FIELD_NUMBER: _ClassVar[int]
    sat: int
    msat: int
    def __init__(self, sat: _Optional[int] = ..., msat: _Optional[int] = ...) -> None: ...

class Payment(_message.Message):
    __slots__ = ("payment_hash", "value", "creation_date", "fee", "payment_preimage", "value_sat", "value_msat", "payment_request", "status", "fee_sat", "fee_msat", "creation_time_ns", "htlcs", "payment_index", "failure_reason", "first_hop_custom_records")
    class PaymentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        UNKNOWN: _ClassVar[Payment.PaymentStatus]
        IN_FLIGHT: _ClassVar[Payment.PaymentStatus]
        SUCCEEDED: _ClassVar[Payment.PaymentStatus]
        FAILED: _ClassVar[Payment.PaymentStatus]
        INITIATED: _ClassVar[Payment.PaymentStatus]
    UNKNOWN: Payment.PaymentStatus
    IN_FLIGHT: Payment.PaymentStatus
    SUCCEEDED: Payment.PaymentStatus
    FAILED: Payment.PaymentStatus
    INITIATED: Payment.PaymentStatus
    class FirstHopCustomRecordsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: bytes
        def __init__(self, key: _Optional[int] = ..., value: _Optional[bytes] = ...) -> None: ...
    PAYMENT_HASH_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CREATION_DATE_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_PREIMAGE_FIELD_NUMBER: _ClassVar[int]
    VALUE_SAT_FIELD_NUMBER: _ClassVar[int]
    VALUE_MSAT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_REQUEST_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FEE_SAT_FIELD_NUMBER: _ClassVar[int]
    FEE_MSAT_FIELD_NUMBER: _ClassVar[int]
    CREATION_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    HTLCS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_INDEX_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    FIRST_HOP_CUSTOM_RECORDS_FIELD_NUMBER: _ClassVar[int]
    payment_hash: str
    value: int
    creation_date: int
    fee: int
    payment_preimage: str
    value_sat: int
    value_msat: int
    payment_request: str
    status: Payment.PaymentStatus
    fee_sat: int
    fee_msat: int
    creation_time_ns: int
    htlcs: _containers.RepeatedCompositeFieldContainer[HTLCAttempt]
    payment_index: int
    failure_reason: PaymentFailureReason
    first_hop_custom_records: _containers.ScalarMap[int, bytes]
    def __init__(self, payment_hash: _Optional[str] = ..., value: _Optional[int] = ..., creation_date: _Optional[int] = ..., fee: _Optional[int] = ..., payment_preimage: _Optional[str] = ..., value_sat: _Optional[int] = ..., value_msat: _Optional[int] = ..., payment_request: _Optional[str] = ..., status: _Optional[_Union[Payment.PaymentStatus, str]] = ..., fee_sat: _Optional[int] = ..., fee_msat: _Optional[int] = ..., creation_time_ns: _Optional[int] = ..., htlcs: _Optional[_Iterable[_Union[HTLCAttempt, _Mapping]]] = ..., payment_index: _Optional[int] = ..., failure_reason: _Optional[_Union[PaymentFailureReason, str]] = ..., first_hop_custom_records: _Optional[_Mapping[int, bytes]] = ...) -> None: ...

class HTLCAttempt(_message.Message):
    __slots__ = ("attempt_id", "status", "route", "attempt_time_ns", "resolve_time_ns", "failure", "preimage")
    class HTLCStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        IN_FLIGHT: _ClassVar[HTLCAttempt.HTLCStatus]
        SUCCEEDED: _ClassVar[HTLCAttempt.HTLCStatus]
        FAILED: _ClassVar[HTLCAttempt.HTLCStatus]
    IN_FLIGHT: HTLCAttempt.HTLCStatus
    SUCCEEDED: HTLCAttempt.HTLCStatus
    FAILED: HTLCAttempt.HTLCStatus
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    PREIMAGE_FIELD_NUMBER: _ClassVar[int]
    attempt_id: int
    status: HTLCAttempt.HTLCStatus
    route: Route
    attempt_time_ns: int
    resolve_time_ns: int
    failure: Failure
    preimage: bytes
    def __init__(self, attempt_id: _Optional[int] = ..., status: _Optional[_Union[HTLCAttempt.HTLCStatus, str]] = ..., route: _Optional[_Union[Route, _Mapping]] = ..., attempt_time_ns: _Optional[int] = ..., resolve_time_ns: _Optional[int] = ..., failure: _Optional[_Union[Failure, _Mapping]] = ..., preimage: _Optional[bytes] = ...) -> None: ...

class Failure(_message.Message):
    __slots__ = ("code", "channel_update", "htlc_msat", "onion_sha_256", "cltv_expiry", "flags", "failure_source_index", "height")
    class FailureCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RESERVED: _ClassVar[Failure.FailureCode]
        INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS: _ClassVar[Failure.FailureCode]
        INCORRECT_PAYMENT_AMOUNT: _ClassVar[Failure.FailureCode]
        FINAL_INCORRECT_CLTV_EXPIRY: _ClassVar[Failure.FailureCode]
        FINAL_INCORRECT_HTLC_AMOUNT: _ClassVar[Failure.FailureCode]
        FINAL_EXPIRY_TOO_SOON: _ClassVar[Failure.FailureCode]
        INVALID_REALM: _ClassVar[Failure.FailureCode]
        EXPIRY_TOO_SOON: _ClassVar[Failure.FailureCode]
        INVALID_ONION_VERSION: _ClassVar[Failure.FailureCode]
        INVALID_ONION_HMAC: _ClassVar[Failure.FailureCode]
        INVALID_ONION_KEY: _ClassVar[Failure.FailureCode]
        AMOUNT_BELOW_MINIMUM: _ClassVar[Failure.FailureCode]
        FEE_INSUFFICIENT: _ClassVar[Failure.FailureCode]
        INCORRECT_CLTV_EXPIRY: _ClassVar[Failure.FailureCode]
        CHANNEL_DISABLED: _ClassVar[Failure.FailureCode]
        TEMPORARY_CHANNEL_FAILURE: _ClassVar[Failure.FailureCode]
        REQUIRED_NODE_FEATURE_MISSING: _ClassVar[Failure.FailureCode]
        REQUIRED_CHANNEL_FEATURE_MISSING: _ClassVar[Failure.FailureCode]
        UNKNOWN_NEXT_PEER: _ClassVar[Failure.FailureCode]
        TEMPORARY_NODE_FAILURE: _ClassVar[Failure.FailureCode]
        PERMANENT_NODE_FAILURE: _ClassVar[Failure.FailureCode]
        PERMANENT_CHANNEL_FAILURE: _ClassVar[Failure.FailureCode]
        EXPIRY_TOO_FAR: _ClassVar[Failure.FailureCode]
        MPP_TIMEOUT: _ClassVar[Failure.FailureCode]
        INVALID_ONION_PAYLOAD: _ClassVar[Failure.FailureCode]
        INVALID_ONION_BLINDING: _ClassVar[Failure.FailureCode]
        INTERNAL_FAILURE: _ClassVar[Failure.FailureCode]
        UNKNOWN_FAILURE: _ClassVar[Failure.FailureCode]
        UNREADABLE_FAILURE: _ClassVar[Failure.FailureCode]
    RESERVED: Failure.FailureCode
    INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS: Failure.FailureCode
    INCORRECT_PAYMENT_AMOUNT: Failure.FailureCode
    FINAL_INCORRECT_CLTV_EXPIRY: Failure.FailureCode
    FINAL_INCORRECT_HTLC_AMOUNT: Failure.FailureCode
    FINAL_EXPIRY_TOO_SOON: Failure.FailureCode
    INVALID_REALM: Failure.FailureCode
    EXPIRY_TOO_SOON: Failure.FailureCode
    INVALID_ONION_VERSION: Failure.FailureCode
    INVALID_ONION_HMAC: Failure.FailureCode
    INVALID_ONION_KEY: Failure.FailureCode
    AMOUNT_BELOW_MINIMUM: Failure.FailureCode
    FEE_INSUFFICIENT: Failure.FailureCode
    INCORRECT_CLTV_EXPIRY: Failure.FailureCode
    CHANNEL_DISABLED: Failure.FailureCode
    TEMPORARY_CHANNEL_FAILURE: Failure.FailureCode
    REQUIRED_NODE_FEATURE_MISSING: Failure.FailureCode
    REQUIRED_CHANNEL_FEATURE_MISSING: Failure.FailureCode
    UNKNOWN_NEXT_PEER: Failure.FailureCode
    TEMPORARY_NODE_FAILURE: Failure.FailureCode
    PERMANENT_NODE_FAILURE: Failure.FailureCode
    PERMANENT_CHANNEL_FAILURE: Failure.FailureCode
    EXPIRY_TOO_FAR: Failure.FailureCode
    MPP_TIMEOUT: Failure.FailureCode
    INVALID_ONION_PAYLOAD: Failure.FailureCode
    INVALID_ONION_BLINDING: Failure.FailureCode
    INTERNAL_FAILURE: Failure.FailureCode
    UNKNOWN_FAILURE: Failure.FailureCode
    UNREADABLE_FAILURE: Failure.FailureCode
    CODE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_UPDATE_FIELD_NUMBER: _ClassVar[int]
    HTLC_MSAT_FIELD_NUMBER: _ClassVar[int]
    ONION_SHA_256_FIELD_NUMBER: _ClassVar[int]
    CLTV_EXPIRY_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_SOURCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    code: Failure.FailureCode
    channel_update: ChannelUpdate
    htlc_msat: int
    onion_sha_256: bytes
    cltv_expiry: int
    flags: int
    failure_source_index: int
    height: int
    def __init__(self, code: _Optional[_Union[Failure.FailureCode, str]] = ..., channel_update: _Optional[_Union[ChannelUpdate, _Mapping]] = ..., htlc_msat: _Optional[int] = ..., onion_sha_256: _Optional[bytes] = ..., cltv_expiry: _Optional[int] = ..., flags: _Optional[int] = ..., failure_source_index: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class ChannelUpdate(_message.Message):
    __slots__ = ("signature", "chain_hash", "chan_id", "timestamp", "channel_flags", "time_lock_delta", "htlc_minimum_msat", "base_fee", "fee_rate", "message_flags", "htlc_maximum_msat", "extra_opaque_data")
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    CHAIN_HASH_FIELD_NUMBER: _ClassVar[int]
    CHAN_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FLAGS_FIELD_NUMBER: _ClassVar[int]
    TIME_LOCK_DELTA_FIELD_NUMBER: _ClassVar[int]
    HTLC_MINIMUM_MSAT_FIELD_NUMBER: _ClassVar[int]
    BASE_FEE_FIELD_NUMBER: _ClassVar[int]
    FEE_RATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FLAGS_FIELD_NUMBER: _ClassVar[int]
    HTLC_MAXIMUM_MSAT_FIELD_NUMBER: _ClassVar[int]
    EXTRA_OPAQUE_DATA_FIELD_NUMBER: _ClassVar[int]
    signature: bytes
    chain_hash: bytes
    chan_id: int
    timestamp: int
    channel_flags: int
    time_lock_delta: int
    htlc_minimum_msat: int
    base_fee: int
    fee_rate: int
    message_flags: int
    htlc_maximum_msat: int
    extra_opaque_data: bytes
    def __init__(self, signature: _Optional[bytes] = ..., chain_hash: _Optional[bytes] = ..., chan_id: _Optional[int] = ..., timestamp: _Optional[int] = ..., channel_flags: _Optional[int] = ..., time_lock_delta: _Optional[int] = ..., htlc_minimum_msat: _Optional[int] = ..., base_fee: _Optional[int] = ..., fee_rate: _Optional[int] = ..., message_flags: _Optional[int] = ..., htlc_maximum_msat: _Optional[int] = ..., extra_opaque_data: _Optional[bytes] = ...) -> None: ...

class ChannelPoint(_message.Message):
    __slots__ = ("funding_txid_bytes", "funding_txid_str", "output_index")
    FUNDING_TXID_BYTES_FIELD_NUMBER: _ClassVar[int]
    FUNDING_TXID_STR_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_INDEX_FIELD_NUMBER: _ClassVar[int]
    funding_txid_bytes: bytes
    funding_txid_str: str
    output_index: int
    def __init__(self, funding_txid_bytes: _Optional[bytes] = ..., funding_txid_str: _Optional[str] = ..., output_index: _Optional[int] = ...) -> None: ...

class ChannelBackup(_message.Message):
    __slots__ = ("chan_point", "chan_backup")
    CHAN_POINT_FIELD_NUMBER: _ClassVar[int]
    CHAN_BACKUP_FIELD_NUMBER: _ClassVar[int]
    chan_point: ChannelPoint
    chan_backup: bytes
    def __init__(self, chan_point: _Optional[_Union[ChannelPoint, _Mapping]] = ..., chan_backup: _Optional[bytes] = ...) -> None: ...

class MultiChanBackup(_message.Message):
    __slots__ = ("chan_points", "multi_chan_backup")
    CHAN_POINTS_FIELD_NUMBER: _ClassVar[int]
    MULTI_CHAN_BACKUP_FIELD_NUMBER: _ClassVar[int]
    chan_points: _containers.RepeatedCompositeFieldContainer[ChannelPoint]
    multi_chan_backup: bytes
    def __init__(self, chan_points: _Optional[_Iterable[_Union[ChannelPoint, _Mapping]]] = ..., multi_chan_backup: _Optional[bytes] = ...) -> None: ...

class ChanBackupExportRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ChanBackupSnapshot(_message.Message):
    __slots__ = ("single_chan_backups", "multi_chan_backup")
    SINGLE_CHAN_BACKUPS_FIELD_NUMBER: _ClassVar[int]
    MULTI_CHAN_BACKUP_FIELD_NUMBER: _ClassVar[int]
    single_chan_backups: ChannelBackups
    multi_chan_backup: MultiChanBackup
    def __init__(self, single_chan_backups: _Optional[_Union[ChannelBackups, _Mapping]] = ..., multi_chan_backup: _Optional[_Union[MultiChanBackup, _Mapping]] = ...) -> None: ...

class ChannelBackups(_message.Message):
    __slots__ = ("chan_backups",)
    CHAN_BACKUPS_FIELD_NUMBER: _ClassVar[int]
    chan_backups: _containers.RepeatedCompositeFieldContainer[ChannelBackup]
    def __init__(self, chan_backups: _Optional[_Iterable[_Union[ChannelBackup, _Mapping]]] = ...) -> None: ...

class ChannelBackupSubscription(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
