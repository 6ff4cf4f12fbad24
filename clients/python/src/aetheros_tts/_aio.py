"""The client for asyncio code, over grpc.aio: the sync client's methods, awaited."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2_grpc

from aetheros.tts.v1 import tts_pb2, tts_pb2_grpc

from ._common import Retry, Tls, TtsError, call_metadata, channel_settings, deadline, remaining, stream_request, synthesize_request
from ._live import AsyncLiveSession, live_config_request

_Response = TypeVar("_Response")


class AsyncTtsClient:
    """TtsService over gRPC for asyncio, with the API key, a default deadline and retries on every call.

        async with AsyncTtsClient("tts:8002", timeout=10) as tts:
            await tts.synthesize_to_file("hello.wav", "Hello.")
            async for audio in tts.audio_stream("One sentence. Then another."): ...

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
            self._channel = grpc.aio.insecure_channel(settings.target, options=settings.options)
        else:
            self._channel = grpc.aio.secure_channel(settings.target, settings.credentials, options=settings.options)
        self.stub = tts_pb2_grpc.TtsServiceStub(self._channel)
        self.health_stub = health_pb2_grpc.HealthStub(self._channel)
        self._metadata = call_metadata(api_key)
        self._timeout = timeout
        self._retry = retry or Retry(max_attempts=1)

    async def __aenter__(self) -> AsyncTtsClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    async def synthesize(self, request: tts_pb2.SynthesizeRequest | str, *, timeout: float | None = None) -> tts_pb2.SynthesizeResponse:
        """The whole utterance as one audio file, with its metadata; a str is the text, spoken with the defaults."""
        return await self._unary(self.stub.Synthesize, synthesize_request(request), timeout)

    async def synthesize_to_bytes(self, request: tts_pb2.SynthesizeRequest | str, *, timeout: float | None = None) -> bytes:
        """Synthesize, and only the audio: the whole file in the requested encoding."""
        return (await self.synthesize(request, timeout=timeout)).audio

    async def synthesize_to_file(
        self, path: str | os.PathLike[str], request: tts_pb2.SynthesizeRequest | str, *, timeout: float | None = None
    ) -> tts_pb2.SynthesizeResponse:
        """Synthesize into a file; returns the response (duration, encoding, ...) once the file is written."""
        response = await self.synthesize(request, timeout=timeout)
        with open(path, "wb") as file:
            file.write(response.audio)
        return response

    async def synthesize_stream(
        self, request: tts_pb2.SynthesizeStreamRequest | str, *, timeout: float | None = None
    ) -> AsyncIterator[tts_pb2.SynthesizeStreamResponse]:
        """SynthesizeStream's messages: a start, audio chunks, a summary. Stopping early cancels the call."""
        message = stream_request(request)
        call_deadline = deadline(self._timeout if timeout is None else timeout)
        attempt = 1
        while True:
            call = self.stub.SynthesizeStream(message, timeout=remaining(call_deadline), metadata=self._metadata)
            messages = call.__aiter__()
            try:
                first = await messages.__anext__()
                break
            except StopAsyncIteration:
                return
            except grpc.RpcError as error:
                failure = TtsError.of(error)
                delay = self._retry.delay_after(failure, attempt, call_deadline)
                if delay is None:
                    raise failure from error
                await asyncio.sleep(delay)
                attempt += 1
        try:
            yield first
            async for message in messages:
                yield message
        except grpc.RpcError as error:
            raise TtsError.of(error) from error
        finally:
            call.cancel()

    async def audio_stream(self, request: tts_pb2.SynthesizeStreamRequest | str, *, timeout: float | None = None) -> AsyncIterator[bytes]:
        """SynthesizeStream's audio chunks in order; concatenated they make one file."""
        async for message in self.synthesize_stream(request, timeout=timeout):
            if message.WhichOneof("event") == "chunk":
                yield message.chunk.audio

    async def stream_to_file(
        self, path: str | os.PathLike[str], request: tts_pb2.SynthesizeStreamRequest | str, *, timeout: float | None = None
    ) -> tts_pb2.StreamSummary:
        """Writes SynthesizeStream's audio to a file as it arrives; returns the stream's summary."""
        summary = tts_pb2.StreamSummary()
        with open(path, "wb") as file:
            async for message in self.synthesize_stream(request, timeout=timeout):
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
    ) -> AsyncLiveSession:
        """StreamingSynthesize: text in as it is written, audio, words and utterance ends out (see AsyncLiveSession).

        `config` is Synthesize's settings for every utterance; `max_buffer_delay_ms` (20 to 10000)
        and `max_buffered_characters` bound how long text without a sentence end waits (the
        server's defaults when None). Neither the client's timeout nor its retries apply.
        """
        return AsyncLiveSession(self.stub, live_config_request(config, max_buffer_delay_ms, max_buffered_characters), self._metadata)

    async def list_voices(self, language: str = "", *, timeout: float | None = None) -> tts_pb2.ListVoicesResponse:
        return await self._unary(self.stub.ListVoices, tts_pb2.ListVoicesRequest(language=language), timeout)

    async def health(self, *, timeout: float | None = None) -> tts_pb2.HealthResponse:
        """TtsService.Health: status with details for people (loaded voices, version, ...)."""
        return await self._unary(self.stub.Health, tts_pb2.HealthRequest(), timeout)

    async def is_serving(self, *, timeout: float | None = None) -> bool:
        """True when the service reports SERVING (its voice is loaded and it takes calls)."""
        return (await self.health(timeout=timeout)).status == tts_pb2.HEALTH_STATUS_SERVING

    async def get_cache_stats(self, *, timeout: float | None = None) -> tts_pb2.GetCacheStatsResponse:
        return await self._unary(self.stub.GetCacheStats, tts_pb2.GetCacheStatsRequest(), timeout)

    async def clear_cache(self, *, timeout: float | None = None) -> tts_pb2.ClearCacheResponse:
        return await self._unary(self.stub.ClearCache, tts_pb2.ClearCacheRequest(), timeout)

    async def _unary(self, method: Callable[..., Awaitable[_Response]], request: object, timeout: float | None) -> _Response:
        call_deadline = deadline(self._timeout if timeout is None else timeout)
        attempt = 1
        while True:
            try:
                return await method(request, timeout=remaining(call_deadline), metadata=self._metadata)
            except grpc.RpcError as error:
                failure = TtsError.of(error)
                delay = self._retry.delay_after(failure, attempt, call_deadline)
                if delay is None:
                    raise failure from error
                await asyncio.sleep(delay)
                attempt += 1
