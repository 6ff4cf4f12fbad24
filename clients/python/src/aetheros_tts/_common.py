"""What the sync and the asyncio client share: requests, channel settings, retries and errors."""

from __future__ import annotations

import dataclasses
import random
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2

from aetheros.tts.v1 import tts_pb2

#: The metadata (a trailer in gRPC) in which the server says how long to wait before retrying, in milliseconds.
RETRY_AFTER_METADATA = "retry-after-ms"
_STATUS_DETAILS_METADATA = "grpc-status-details-bin"
_RETRYABLE = frozenset({grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE})
#: The wait without a hint from the server: 100 ms, doubled on every further attempt, with jitter.
_BACKOFF_BASE_SECONDS = 0.1
# The server's messages for INVALID_ARGUMENT begin with the field they blame ("config.speed: ...").
_FIELD_PREFIX = re.compile(r"([A-Za-z_][\w.\[\]]*): ")

Metadata = Iterable[tuple[str, "str | bytes"]]


@dataclasses.dataclass(frozen=True)
class Retry:
    """Retries of RESOURCE_EXHAUSTED and UNAVAILABLE, after the server's `retry-after-ms` when it sends one.

    A stream is retried only if it failed before its first message: after that the caller
    has audio in hand and a retry would repeat it. No retry starts past the call's deadline.
    """

    #: Attempts in all, the first included; 1 turns retries off.
    max_attempts: int = 3
    #: The longest wait before a retry, in seconds. A refusal that asks for longer is raised at
    #: once: waiting less than the server said is futile.
    max_delay: float = 5.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"Retry.max_attempts: {self.max_attempts} must be at least 1")
        if not self.max_delay >= 0:
            raise ValueError(f"Retry.max_delay: {self.max_delay} must be at least 0")

    def delay_after(self, error: TtsError, attempt: int, deadline: float | None) -> float | None:
        """The wait before attempt `attempt + 1`, or None when `error` is final."""
        if attempt >= self.max_attempts or error.code() not in _RETRYABLE:
            return None
        delay = error.retry_after
        if delay is None:
            delay = _BACKOFF_BASE_SECONDS * 2 ** (attempt - 1) * (0.5 + random.random())
        if delay > self.max_delay or (deadline is not None and time.monotonic() + delay >= deadline):
            return None
        return delay


@dataclasses.dataclass(frozen=True)
class Tls:
    """TLS settings; `tls=True` is TLS with the system's CAs and no client certificate."""

    #: PEM CA certificates that signed the server's certificate (default: the system's).
    ca: bytes | None = None
    #: PEM client certificate chain and its private key, when the server asks for one.
    cert: bytes | None = None
    key: bytes | None = None
    #: The name to check the server's certificate against, when it is not the target's host.
    server_name: str | None = None


class TtsError(grpc.RpcError):
    """A failed call: grpc.RpcError with the status and, when the server said them, the field
    it blames (INVALID_ARGUMENT) and how long to wait before retrying (RESOURCE_EXHAUSTED)."""

    def __init__(self, code: grpc.StatusCode, message: str, trailing_metadata: Sequence[tuple[str, str | bytes]] = ()):
        super().__init__(f"{code.name}: {message}")
        self._code = code
        self._message = message
        self._trailing_metadata = tuple(trailing_metadata)
        violations, retry_delay = _status_details(_value(self._trailing_metadata, _STATUS_DETAILS_METADATA))
        #: The request field at fault, for INVALID_ARGUMENT ("text", "config.speed"), else None.
        self.field: str | None = None
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            prefix = _FIELD_PREFIX.match(message)
            self.field = violations[0] if violations else prefix.group(1) if prefix else None
        #: Seconds to wait before retrying, when the server said (google.rpc.RetryInfo or `retry-after-ms`).
        self.retry_after: float | None = retry_delay
        hint = _value(self._trailing_metadata, RETRY_AFTER_METADATA)
        if retry_delay is None and isinstance(hint, str) and hint.isdigit():
            self.retry_after = int(hint) / 1000

    @classmethod
    def of(cls, error: grpc.RpcError) -> TtsError:
        if isinstance(error, TtsError):
            return error
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        message = error.details() if hasattr(error, "details") else str(error)
        metadata = error.trailing_metadata() if hasattr(error, "trailing_metadata") else ()
        return cls(code, message or "", tuple(metadata or ()))

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._message

    def trailing_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return self._trailing_metadata


def _value(metadata: Metadata, key: str) -> str | bytes | None:
    return next((value for name, value in metadata if name == key), None)


def _status_details(encoded: str | bytes | None) -> tuple[list[str], float | None]:
    """The fields of google.rpc.BadRequest and the delay of google.rpc.RetryInfo in a status's details."""
    fields: list[str] = []
    delay: float | None = None
    if not isinstance(encoded, bytes):
        return fields, delay
    for detail in status_pb2.Status.FromString(encoded).details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            fields.extend(violation.field for violation in bad_request.field_violations)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry_info = error_details_pb2.RetryInfo()
            detail.Unpack(retry_info)
            delay = retry_info.retry_delay.ToTimedelta().total_seconds()
    return fields, delay


def synthesize_request(request: tts_pb2.SynthesizeRequest | str) -> tts_pb2.SynthesizeRequest:
    return tts_pb2.SynthesizeRequest(text=request) if isinstance(request, str) else request


def stream_request(request: tts_pb2.SynthesizeStreamRequest | str) -> tts_pb2.SynthesizeStreamRequest:
    return tts_pb2.SynthesizeStreamRequest(text=request) if isinstance(request, str) else request


def deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


@dataclasses.dataclass(frozen=True)
class ChannelSettings:
    target: str
    credentials: grpc.ChannelCredentials | None
    options: list[tuple[str, Any]]


def channel_settings(target: str, tls: bool | Tls | None, options: Sequence[tuple[str, Any]]) -> ChannelSettings:
    """`target` is "host:port", or a URL as the Node client takes it ("https://tts:8002" means TLS)."""
    if target.startswith("https://"):
        target, tls = target.removeprefix("https://"), True if tls is None else tls
    target = target.removeprefix("http://").rstrip("/")
    # gRPC's default of 4 MiB is less than a long text's WAV; the server bounds the text instead.
    settings: list[tuple[str, Any]] = [("grpc.max_receive_message_length", -1)]
    credentials = None
    if isinstance(tls, Tls):
        credentials = grpc.ssl_channel_credentials(root_certificates=tls.ca, private_key=tls.key, certificate_chain=tls.cert)
        if tls.server_name is not None:
            settings.append(("grpc.ssl_target_name_override", tls.server_name))
    elif tls:
        credentials = grpc.ssl_channel_credentials()
    return ChannelSettings(target, credentials, settings + list(options))


def call_metadata(api_key: str | None) -> tuple[tuple[str, str], ...] | None:
    return None if api_key is None else (("authorization", f"Bearer {api_key}"),)
