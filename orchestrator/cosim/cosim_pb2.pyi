from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Envelope(_message.Message):
    __slots__ = ("major", "minor", "seq", "hello", "configure", "configured", "round", "round_reply", "error", "shutdown", "goodbye")
    MAJOR_FIELD_NUMBER: _ClassVar[int]
    MINOR_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
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
    hello: Hello
    configure: Configure
    configured: Configured
    round: Round
    round_reply: RoundReply
    error: Error
    shutdown: Shutdown
    goodbye: Goodbye
    def __init__(self, major: _Optional[int] = ..., minor: _Optional[int] = ..., seq: _Optional[int] = ..., hello: _Optional[_Union[Hello, _Mapping]] = ..., configure: _Optional[_Union[Configure, _Mapping]] = ..., configured: _Optional[_Union[Configured, _Mapping]] = ..., round: _Optional[_Union[Round, _Mapping]] = ..., round_reply: _Optional[_Union[RoundReply, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ..., shutdown: _Optional[_Union[Shutdown, _Mapping]] = ..., goodbye: _Optional[_Union[Goodbye, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("lookahead_ns",)
    LOOKAHEAD_NS_FIELD_NUMBER: _ClassVar[int]
    lookahead_ns: int
    def __init__(self, lookahead_ns: _Optional[int] = ...) -> None: ...

class Round(_message.Message):
    __slots__ = ("grant_ns", "injections")
    GRANT_NS_FIELD_NUMBER: _ClassVar[int]
    INJECTIONS_FIELD_NUMBER: _ClassVar[int]
    grant_ns: int
    injections: _containers.RepeatedCompositeFieldContainer[Injection]
    def __init__(self, grant_ns: _Optional[int] = ..., injections: _Optional[_Iterable[_Union[Injection, _Mapping]]] = ...) -> None: ...

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
    __slots__ = ("arrivals", "next_event_ns", "events_processed")
    ARRIVALS_FIELD_NUMBER: _ClassVar[int]
    NEXT_EVENT_NS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    arrivals: _containers.RepeatedCompositeFieldContainer[Arrival]
    next_event_ns: int
    events_processed: int
    def __init__(self, arrivals: _Optional[_Iterable[_Union[Arrival, _Mapping]]] = ..., next_event_ns: _Optional[int] = ..., events_processed: _Optional[int] = ...) -> None: ...

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
    __slots__ = ("messages", "bytes")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    messages: int
    bytes: int
    def __init__(self, messages: _Optional[int] = ..., bytes: _Optional[int] = ...) -> None: ...
