"""The client for synchronous code (threads), over grpcio."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2_grpc

from aetheros.tts.v1 import tts_pb2, tts_pb2_grpc

from ._common import Retry, Tls, TtsError, call_metadata, channel_settings, deadline, remaining, stream_request, synthesize_request
from ._live import LiveSession, live_config_request

_Response = TypeVar("_Response")


class TtsClient:
    """TtsService over gRPC, with the API key, a default deadline and retries on every call.

        with TtsClient("tts:8002", timeout=10) as tts:
            tts.synthesize_to_file("hello.wav", "Hello.")
            for audio in tts.audio_stream("One sentence. Then another."): ...

    `timeout` (seconds) is each call's deadline, retries included, unless the call brings its
    own; None means none. `stub` and `health_stub` are the generated stubs on the same channel,
    without the key, deadline or retries.
    """

    def __init__(
        self,
        target: str = "localhost:8002",
        *,
        api_key: str | None = None,
        timeout: float | None = None,
        retry: Retry | None = Retry(),
        tls: bool | Tls | None = None,
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        settings = channel_settings(target, tls, options)
        if settings.credentials is None:
            self._channel = grpc.insecure_channel(settings.target, options=settings.options)
        else:
            self._channel = grpc.secure_channel(settings.target, settings.credentials, options=settings.options)
        self.stub = tts_pb2_grpc.TtsServiceStub(self._channel)
        self.health_stub = health_pb2_grpc.HealthStub(self._channel)
        self._metadata = call_metadata(api_key)
        self._timeout = timeout
        self._retry = retry or Retry(max_attempts=1)

    def __enter__(self) -> TtsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def synthesize(self, request: tts_pb2.SynthesizeRequest | str, *, timeout: float | None = None) -> tts_pb2.SynthesizeResponse:
        """The whole utterance as one audio file, with its metadata; a str is the text, spoken with the defaults."""
        return self._unary(self.stub.Synthesize, synthesize_request(request), timeout)

    def synthesize_to_bytes(self, request: tts_pb2.SynthesizeRequest | str, *, timeout: float | None = None) -> bytes:
        """Synthesize, and only the audio: the whole file in the requested encoding."""
        return self.synthesize(request, timeout=timeout).audio

    def synthesize_to_file(
        self, path: str | os.PathLike[str], request: tts_pb2.SynthesizeRequest | str, *, timeout: float | None = None
    ) -> tts_pb2.SynthesizeResponse:
        """Synthesize into a file; returns the response (duration, encoding, ...) once the file is written."""
        response = self.synthesize(request, timeout=timeout)
        with open(path, "wb") as file:
            file.write(response.audio)
        return response

    def synthesize_stream(
        self, request: tts_pb2.SynthesizeStreamRequest | str, *, timeout: float | None = None
    ) -> Iterator[tts_pb2.SynthesizeStreamResponse]:
        """SynthesizeStream's messages: a start, audio chunks, a summary. Stopping early cancels the call."""
        message = stream_request(request)
        call_deadline = deadline(self._timeout if timeout is None else timeout)
        attempt = 1
        while True:
            call = self.stub.SynthesizeStream(message, timeout=remaining(call_deadline), metadata=self._metadata)
            try:
                first = next(call)
                break
            except StopIteration:
                return
            except grpc.RpcError as error:
                failure = TtsError.of(error)
                delay = self._retry.delay_after(failure, attempt, call_deadline)
                if delay is None:
                    raise failure from error
                time.sleep(delay)
                attempt += 1
        try:
            yield first
            yield from call
        except grpc.RpcError as error:
            raise TtsError.of(error) from error
        finally:
            call.cancel()

    def audio_stream(self, request: tts_pb2.SynthesizeStreamRequest | str, *, timeout: float | None = None) -> Iterator[bytes]:
        """SynthesizeStream's audio chunks in order; concatenated they make one file."""
        for message in self.synthesize_stream(request, timeout=timeout):
            if message.WhichOneof("event") == "chunk":
                yield message.chunk.audio

    def stream_to_file(
        self, path: str | os.PathLike[str], request: tts_pb2.SynthesizeStreamRequest | str, *, timeout: float | None = None
    ) -> tts_pb2.StreamSummary:
        """Writes SynthesizeStream's audio to a file as it arrives; returns the stream's summary."""
        summary = tts_pb2.StreamSummary()
        with open(path, "wb") as file:
            for message in self.synthesize_stream(request, timeout=timeout):
                if message.WhichOneof("event") == "chunk":
                    file.write(message.chunk.audio)
                elif message.WhichOneof("event") == "summary":
                    summary = message.summary
        return summary

    def live_session(
        self,
        config: tts_pb2.SynthesisConfig | None = None,
        *,
        max_buffer_delay_ms: int | None = None,
        max_buffered_characters: int | None = None,
    ) -> LiveSession:
        """StreamingSynthesize: text in as it is written, audio, words and utterance ends out (see LiveSession).

        `config` is Synthesize's settings for every utterance; `max_buffer_delay_ms` (20 to 10000)
        and `max_buffered_characters` bound how long text without a sentence end waits (the
        server's defaults when None). Neither the client's timeout nor its retries apply.
        """
        return LiveSession(self.stub, live_config_request(config, max_buffer_delay_ms, max_buffered_characters), self._metadata)

    def list_voices(self, language: str = "", *, timeout: float | None = None) -> tts_pb2.ListVoicesResponse:
        return self._unary(self.stub.ListVoices, tts_pb2.ListVoicesRequest(language=language), timeout)

    def health(self, *, timeout: float | None = None) -> tts_pb2.HealthResponse:
        """TtsService.Health: status with details for people (loaded voices, version, ...)."""
        return self._unary(self.stub.Health, tts_pb2.HealthRequest(), timeout)

    def is_serving(self, *, timeout: float | None = None) -> bool:
        """True when the service reports SERVING (its voice is loaded and it takes calls)."""
        return self.health(timeout=timeout).status == tts_pb2.HEALTH_STATUS_SERVING

    def get_cache_stats(self, *, timeout: float | None = None) -> tts_pb2.GetCacheStatsResponse:
        return self._unary(self.stub.GetCacheStats, tts_pb2.GetCacheStatsRequest(), timeout)

    def clear_cache(self, *, timeout: float | None = None) -> tts_pb2.ClearCacheResponse:
        return self._unary(self.stub.ClearCache, tts_pb2.ClearCacheRequest(), timeout)

    def _unary(self, method: Callable[..., _Response], request: object, timeout: float | None) -> _Response:
        call_deadline = deadline(self._timeout if timeout is None else timeout)
        attempt = 1
        while True:
            try:
                return method(request, timeout=remaining(call_deadline), metadata=self._metadata)
            except grpc.RpcError as error:
                failure = TtsError.of(error)
                delay = self._retry.delay_after(failure, attempt, call_deadline)
                if delay is None:
                    raise failure from error
                time.sleep(delay)
                attempt += 1
