"""Live speech over StreamingSynthesize, for sync and asyncio code: text goes in as a language
model writes it (a token, a word, half a word), typed events come out: the stream's format,
audio per sentence, each sentence's word timestamps, and the end of each utterance.

    with tts.live_session(SynthesisConfig(encoding=AudioEncoding.AUDIO_ENCODING_PCM)) as live:
        live.send("Hello the")          # from the language model, as it comes (any thread)
        live.send("re. How are you?")
        live.close()                    # no more text: the iteration ends after the last utterance
        for event in live:
            if isinstance(event, LiveAudio): play(event.audio)

Utterances are named by a context id ("" unless given); text for a new id starts an utterance
spoken after the ones before it. A method without a context id acts on the last one text was
sent for. The client's timeout and retries do not apply: a session lives as long as its talk.
"""

from __future__ import annotations

import asyncio
import dataclasses
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Union

import grpc

from aetheros.tts.v1 import tts_pb2

from ._common import TtsError


@dataclasses.dataclass(frozen=True)
class LiveStart:
    """The stream's audio format, sent once before any audio."""

    encoding: int
    sample_rate: int
    voice: str
    #: Engine and voice, for example "piper:en_US-joe-medium".
    model_used: str


@dataclasses.dataclass(frozen=True)
class LiveAudio:
    """A piece of an utterance's audio; an utterance's pieces, concatenated, make one file in the encoding."""

    context_id: str
    #: Sentence of the utterance the audio belongs to, from 0.
    sentence_index: int
    #: Where the piece's first sample is in the utterance's audio, in samples at the stream's rate.
    sample_offset: int
    #: Position of the piece in the utterance, from 0.
    sequence: int
    audio: bytes


@dataclasses.dataclass(frozen=True)
class LiveWord:
    """One spoken word: where it is in the utterance's text (code points) and when it is heard (seconds from the utterance's start)."""

    word: str
    text_start: int
    text_end: int
    start_seconds: float
    end_seconds: float
    sentence_index: int


@dataclasses.dataclass(frozen=True)
class LiveTimepoint:
    """Where an SSML <mark> falls, in seconds from the start of the utterance's audio."""

    mark_name: str
    seconds: float


@dataclasses.dataclass(frozen=True)
class LiveWords:
    """A sentence's words, before its first audio (with enable_word_timestamps), and the marks that fall in it."""

    context_id: str
    sentence_index: int
    words: tuple[LiveWord, ...]
    timepoints: tuple[LiveTimepoint, ...]


@dataclasses.dataclass(frozen=True)
class LiveUtteranceEnd:
    """An utterance is over, spoken to its end or cancelled; nothing of it follows.

    `error_code` and `error_message` are set when it ended early: no room on the server for one
    of its sentences ("RESOURCE_EXHAUSTED"), or an SSML document sent to it is not valid
    ("INVALID_ARGUMENT"). The session goes on.
    """

    context_id: str
    cancelled: bool
    duration_seconds: float
    sentence_count: int
    chunk_count: int
    audio_bytes: int
    error_code: str | None = None
    error_message: str | None = None


LiveEvent = Union[LiveStart, LiveAudio, LiveWords, LiveUtteranceEnd]


def _event_of(response: tts_pb2.StreamingSynthesizeResponse) -> LiveEvent | None:
    """The typed event of a response; None for one this client does not know (a newer server's)."""
    kind = response.WhichOneof("event")
    if kind == "start":
        start = response.start
        return LiveStart(start.encoding, start.sample_rate, start.voice, start.model_used)
    if kind == "chunk":
        chunk = response.chunk
        return LiveAudio(chunk.context_id, chunk.sentence_index, chunk.sample_offset, chunk.sequence, chunk.audio)
    if kind == "timestamps":
        stamps = response.timestamps
        return LiveWords(
            stamps.context_id,
            stamps.sentence_index,
            tuple(LiveWord(w.word, w.text_start, w.text_end, w.start_seconds, w.end_seconds, w.sentence_index) for w in stamps.words),
            tuple(LiveTimepoint(t.mark_name, t.seconds) for t in stamps.timepoints),
        )
    if kind == "utterance_end":
        end = response.utterance_end
        summary = end.summary
        has_error = end.HasField("error")
        return LiveUtteranceEnd(
            end.context_id,
            end.cancelled,
            summary.duration_seconds,
            summary.sentence_count,
            summary.chunk_count,
            summary.audio_bytes,
            end.error.code if has_error else None,
            end.error.message if has_error else None,
        )
    return None


class _Utterances:
    """The client's view of the server's utterances, to know when a closed session is over:
    those open to text, and per context id how many utterance ends are still to come (text
    after an end or a cancel opens a new utterance under the same id)."""

    def __init__(self) -> None:
        self.open: set[str] = set()
        self.ends_to_come: dict[str, int] = {}
        self.current = ""
        self.closing = False

    def check_open(self) -> None:
        if self.closing:
            raise RuntimeError("the live session is closed: no more text can be sent")

    def sent(self, context_id: str, end_utterance: bool) -> None:
        self.current = context_id
        if context_id not in self.open:
            self.ends_to_come[context_id] = self.ends_to_come.get(context_id, 0) + 1
        if end_utterance:
            self.open.discard(context_id)
        else:
            self.open.add(context_id)

    def ended(self, context_id: str) -> None:
        left = self.ends_to_come.get(context_id, 1) - 1
        if left > 0:
            self.ends_to_come[context_id] = left
        else:
            self.ends_to_come.pop(context_id, None)

    @property
    def over(self) -> bool:
        return self.closing and not self.ends_to_come


def live_config_request(
    config: tts_pb2.SynthesisConfig | None, max_buffer_delay_ms: int | None, max_buffered_characters: int | None
) -> tts_pb2.StreamingSynthesizeRequest:
    streaming = tts_pb2.StreamingSynthesisConfig(config=config or tts_pb2.SynthesisConfig())
    if max_buffer_delay_ms is not None:
        streaming.max_buffer_delay_ms = max_buffer_delay_ms
    if max_buffered_characters is not None:
        streaming.max_buffered_characters = max_buffered_characters
    return tts_pb2.StreamingSynthesizeRequest(config=streaming)


class _LiveControls:
    """send, send_ssml, flush, end, cancel and close: requests queued for the stream, from any thread."""

    def __init__(self) -> None:
        self._utterances = _Utterances()
        self._lock = threading.Lock()
        self._finished = False
        self._read = False

    def _put(self, request: tts_pb2.StreamingSynthesizeRequest | None) -> None:
        raise NotImplementedError

    def _input(self, context_id: str | None, **fields: object) -> None:
        with self._lock:
            self._utterances.check_open()
            context = self._utterances.current if context_id is None else context_id
            self._put(tts_pb2.StreamingSynthesizeRequest(input=tts_pb2.TextInput(context_id=context, **fields)))
            self._utterances.sent(context, bool(fields.get("end_utterance")))

    def send(self, text: str, context_id: str | None = None) -> None:
        """Adds text to an utterance, spoken once its sentence's end is certain."""
        self._input(context_id, text=text)

    def send_ssml(self, ssml: str, context_id: str | None = None) -> None:
        """Adds a whole SSML document: what was sent before it is spoken first, then the document, its marks as timepoints."""
        self._input(context_id, ssml=ssml)

    def flush(self, context_id: str | None = None) -> None:
        """Speaks what the utterance has buffered now, even mid-sentence."""
        self._input(context_id, flush=True)

    def end(self, context_id: str | None = None) -> None:
        """No more text for the utterance: the rest is spoken, then its LiveUtteranceEnd comes."""
        self._input(context_id, end_utterance=True)

    def cancel(self, context_id: str | None = None) -> None:
        """Stops the utterance now (a user's interruption): its audio stops after a LiveUtteranceEnd with `cancelled`.

        Also after close(), while the last utterances are still being spoken.
        """
        with self._lock:
            if self._finished:
                return  # every utterance has ended
            context = self._utterances.current if context_id is None else context_id
            self._put(tts_pb2.StreamingSynthesizeRequest(cancel=tts_pb2.CancelUtterance(context_id=context)))
            self._utterances.open.discard(context)

    def close(self) -> None:
        """No more text at all: every open utterance is ended and spoken; the iteration ends after the last one."""
        with self._lock:
            if self._utterances.closing:
                return
            for context in sorted(self._utterances.open):
                self._put(tts_pb2.StreamingSynthesizeRequest(input=tts_pb2.TextInput(context_id=context, end_utterance=True)))
                self._utterances.sent(context, True)
            self._utterances.closing = True
            self._finish_when_over()

    def _start_reading(self) -> None:
        if self._read:
            raise RuntimeError("a live session's events can be read once")
        self._read = True

    def _seen(self, event: LiveEvent) -> None:
        if isinstance(event, LiveUtteranceEnd):
            with self._lock:
                if event.error_code is not None:
                    # The server ended it: close() has no end to send for it.
                    self._utterances.open.discard(event.context_id)
                self._utterances.ended(event.context_id)
                self._finish_when_over()

    def _finish_when_over(self) -> None:
        # Under the lock: the request stream ends once every utterance of a closed session has.
        if self._utterances.over and not self._finished:
            self._finished = True
            self._put(None)


class LiveSession(_LiveControls):
    """A live speech session for sync code, from TtsClient.live_session(). Send from any thread;
    iterate it (once) in one thread for its events. Leaving its `with` block, or `abort()`,
    stops it at once (its syntheses stop)."""

    def __init__(self, stub: object, config: tts_pb2.StreamingSynthesizeRequest, metadata: object) -> None:
        super().__init__()
        self._requests: queue.SimpleQueue[tts_pb2.StreamingSynthesizeRequest | None] = queue.SimpleQueue()
        self._requests.put(config)
        self._call = stub.StreamingSynthesize(self._outgoing(), metadata=metadata)  # type: ignore[attr-defined]

    def _put(self, request: tts_pb2.StreamingSynthesizeRequest | None) -> None:
        self._requests.put(request)

    def _outgoing(self) -> Iterator[tts_pb2.StreamingSynthesizeRequest]:
        while (request := self._requests.get()) is not None:
            yield request

    def __iter__(self) -> Iterator[LiveEvent]:
        self._start_reading()
        try:
            for response in self._call:
                event = _event_of(response)
                if event is not None:
                    yield event
                    self._seen(event)
        except grpc.RpcError as error:
            raise TtsError.of(error) from error

    def abort(self) -> None:
        """Ends the session now; an iteration under way raises CANCELLED."""
        self._call.cancel()
        self._requests.put(None)

    def __enter__(self) -> LiveSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.abort()


class AsyncLiveSession(_LiveControls):
    """A live speech session for asyncio code, from AsyncTtsClient.live_session(): the same
    methods (not awaited), `async for` for its events, `async with` to stop it on leaving."""

    def __init__(self, stub: object, config: tts_pb2.StreamingSynthesizeRequest, metadata: object) -> None:
        super().__init__()
        self._loop = asyncio.get_running_loop()
        self._requests: asyncio.Queue[tts_pb2.StreamingSynthesizeRequest | None] = asyncio.Queue()
        self._requests.put_nowait(config)
        self._call = stub.StreamingSynthesize(self._outgoing(), metadata=metadata)  # type: ignore[attr-defined]

    def _put(self, request: tts_pb2.StreamingSynthesizeRequest | None) -> None:
        # From the loop's thread or any other.
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._requests.put_nowait(request)
        else:
            self._loop.call_soon_threadsafe(self._requests.put_nowait, request)

    async def _outgoing(self) -> AsyncIterator[tts_pb2.StreamingSynthesizeRequest]:
        while (request := await self._requests.get()) is not None:
            yield request

    async def __aiter__(self) -> AsyncIterator[LiveEvent]:
        self._start_reading()
        try:
            async for response in self._call:
                event = _event_of(response)
                if event is not None:
                    yield event
                    self._seen(event)
        except grpc.RpcError as error:
            raise TtsError.of(error) from error

    def abort(self) -> None:
        """Ends the session now; an iteration under way raises CANCELLED."""
        self._call.cancel()

    async def __aenter__(self) -> AsyncLiveSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.abort()
