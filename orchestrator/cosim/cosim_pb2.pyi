from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Envelope(_message.Message):
    __slots__ = ("major", "minor", "seq", "session", "hello", "configure", "configured", "round", "round_reply", "error", "shutdown", "goodbye")
    MAJOR_FIELD_NUMBER: _ClassVar[int]
    MINOR_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    CONFIGURE_FIELD_NUMBER: _ClassVar[int]
    CONFIGURED_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    ROUND_REPLY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SHUTDOWN_FIELD_NUMBER: _ClassVar[int]
    GOODBYE_FIELD_NUMBER: _ClassVar[int]
    major: int
    minor: int
    seq: int
    session: bytes
    hello: Hello
    configure: Configure
    configured: Configured
    round: Round
    round_reply: RoundReply
    error: Error
    shutdown: Shutdown
    goodbye: Goodbye
    def __init__(self, major: _Optional[int] = ..., minor: _Optional[int] = ..., seq: _Optional[int] = ..., session: _Optional[bytes] = ..., hello: _Optional[_Union[Hello, _Mapping]] = ..., configure: _Optional[_Union[Configure, _Mapping]] = ..., configured: _Optional[_Union[Configured, _Mapping]] = ..., round: _Optional[_Union[Round, _Mapping]] = ..., round_reply: _Optional[_Union[RoundReply, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ..., shutdown: _Optional[_Union[Shutdown, _Mapping]] = ..., goodbye: _Optional[_Union[Goodbye, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("role", "capabilities", "pid")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    role: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    pid: int
    def __init__(self, role: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., pid: _Optional[int] = ...) -> None: ...

class Configure(_message.Message):
    __slots__ = ("model", "config_json")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    model: str
    config_json: str
    def __init__(self, model: _Optional[str] = ..., config_json: _Optional[str] = ...) -> None: ...

class Configured(_message.Message):
    __slots__ = ("lookahead_ns", "decides_at_injection", "pure")
    LOOKAHEAD_NS_FIELD_NUMBER: _ClassVar[int]
    DECIDES_AT_INJECTION_FIELD_NUMBER: _ClassVar[int]
    PURE_FIELD_NUMBER: _ClassVar[int]
    lookahead_ns: int
    decides_at_injection: bool
    pure: bool
    def __init__(self, lookahead_ns: _Optional[int] = ..., decides_at_injection: _Optional[bool] = ..., pure: _Optional[bool] = ...) -> None: ...

class Round(_message.Message):
    __slots__ = ("grant_ns", "injections", "compute_requests")
    GRANT_NS_FIELD_NUMBER: _ClassVar[int]
    INJECTIONS_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    grant_ns: int
    injections: _containers.RepeatedCompositeFieldContainer[Injection]
    compute_requests: _containers.RepeatedCompositeFieldContainer[ComputeRequest]
    def __init__(self, grant_ns: _Optional[int] = ..., injections: _Optional[_Iterable[_Union[Injection, _Mapping]]] = ..., compute_requests: _Optional[_Iterable[_Union[ComputeRequest, _Mapping]]] = ...) -> None: ...

class Injection(_message.Message):
    __slots__ = ("op", "src", "dst", "bytes", "time_ns")
    OP_FIELD_NUMBER: _ClassVar[int]
    SRC_FIELD_NUMBER: _ClassVar[int]
    DST_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    TIME_NS_FIELD_NUMBER: _ClassVar[int]
    op: int
    src: int
    dst: int
    bytes: int
    time_ns: int
    def __init__(self, op: _Optional[int] = ..., src: _Optional[int] = ..., dst: _Optional[int] = ..., bytes: _Optional[int] = ..., time_ns: _Optional[int] = ...) -> None: ...

class RoundReply(_message.Message):
    __slots__ = ("arrivals", "next_event_ns", "events_processed", "completions")
    ARRIVALS_FIELD_NUMBER: _ClassVar[int]
    NEXT_EVENT_NS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    COMPLETIONS_FIELD_NUMBER: _ClassVar[int]
    arrivals: _containers.RepeatedCompositeFieldContainer[Arrival]
    next_event_ns: int
    events_processed: int
    completions: _containers.RepeatedCompositeFieldContainer[Completion]
    def __init__(self, arrivals: _Optional[_Iterable[_Union[Arrival, _Mapping]]] = ..., next_event_ns: _Optional[int] = ..., events_processed: _Optional[int] = ..., completions: _Optional[_Iterable[_Union[Completion, _Mapping]]] = ...) -> None: ...

class ComputeRequest(_message.Message):
    __slots__ = ("op", "npu", "time_ns", "ops", "gemm", "conv")
    OP_FIELD_NUMBER: _ClassVar[int]
    NPU_FIELD_NUMBER: _ClassVar[int]
    TIME_NS_FIELD_NUMBER: _ClassVar[int]
    OPS_FIELD_NUMBER: _ClassVar[int]
    GEMM_FIELD_NUMBER: _ClassVar[int]
    CONV_FIELD_NUMBER: _ClassVar[int]
    op: int
    npu: int
    time_ns: int
    ops: OpsShape
    gemm: GemmShape
    conv: ConvShape
    def __init__(self, op: _Optional[int] = ..., npu: _Optional[int] = ..., time_ns: _Optional[int] = ..., ops: _Optional[_Union[OpsShape, _Mapping]] = ..., gemm: _Optional[_Union[GemmShape, _Mapping]] = ..., conv: _Optional[_Union[ConvShape, _Mapping]] = ...) -> None: ...

class OpsShape(_message.Message):
    __slots__ = ("num_ops", "tensor_bytes")
    NUM_OPS_FIELD_NUMBER: _ClassVar[int]
    TENSOR_BYTES_FIELD_NUMBER: _ClassVar[int]
    num_ops: int
    tensor_bytes: int
    def __init__(self, num_ops: _Optional[int] = ..., tensor_bytes: _Optional[int] = ...) -> None: ...

class GemmShape(_message.Message):
    __slots__ = ("m", "n", "k")
    M_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    m: int
    n: int
    k: int
    def __init__(self, m: _Optional[int] = ..., n: _Optional[int] = ..., k: _Optional[int] = ...) -> None: ...

class ConvShape(_message.Message):
    __slots__ = ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "filters", "stride")
    IFMAP_H_FIELD_NUMBER: _ClassVar[int]
    IFMAP_W_FIELD_NUMBER: _ClassVar[int]
    FILTER_H_FIELD_NUMBER: _ClassVar[int]
    FILTER_W_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    STRIDE_FIELD_NUMBER: _ClassVar[int]
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    filters: int
    stride: int
    def __init__(self, ifmap_h: _Optional[int] = ..., ifmap_w: _Optional[int] = ..., filter_h: _Optional[int] = ..., filter_w: _Optional[int] = ..., channels: _Optional[int] = ..., filters: _Optional[int] = ..., stride: _Optional[int] = ...) -> None: ...

class Completion(_message.Message):
    __slots__ = ("op", "time_ns")
    OP_FIELD_NUMBER: _ClassVar[int]
    TIME_NS_FIELD_NUMBER: _ClassVar[int]
    op: int
    time_ns: int
    def __init__(self, op: _Optional[int] = ..., time_ns: _Optional[int] = ...) -> None: ...

class Arrival(_message.Message):
    __slots__ = ("op", "time_ns")
    OP_FIELD_NUMBER: _ClassVar[int]
    TIME_NS_FIELD_NUMBER: _ClassVar[int]
    op: int
    time_ns: int
    def __init__(self, op: _Optional[int] = ..., time_ns: _Optional[int] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class Shutdown(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Goodbye(_message.Message):
    __slots__ = ("messages", "bytes", "stats")
    class StatsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    messages: int
    bytes: int
    stats: _containers.ScalarMap[str, float]
    def __init__(self, messages: _Optional[int] = ..., bytes: _Optional[int] = ..., stats: _Optional[_Mapping[str, float]] = ...) -> None: ...
