"""A sibling service's use of aetheros-tts-client, run by test/client/python.test.ts from a
fresh venv: `python consumer.py calls|refused|live TARGET API_KEY` prints one JSON object."""

import asyncio
import json
import sys
import threading
import time

from grpc_health.v1 import health_pb2

from aetheros_tts import (
    AsyncTtsClient,
    AudioEncoding,
    LiveAudio,
    LiveStart,
    LiveUtteranceEnd,
    LiveWords,
    Retry,
    SynthesisConfig,
    SynthesizeRequest,
    SynthesizeStreamRequest,
    TtsClient,
    TtsError,
)

TEXT = "The client speaks Python. It streams as well."
WAV = SynthesisConfig(encoding=AudioEncoding.AUDIO_ENCODING_WAV)
mode, target, api_key = sys.argv[1:4]


def failure(error: TtsError) -> dict:
    return {"code": error.code().name, "field": error.field, "retryAfter": error.retry_after, "message": error.details()}


def calls_sync() -> dict:
    with TtsClient(target, api_key=api_key, timeout=120) as tts:
        unary = tts.synthesize_to_file("sync.wav", SynthesizeRequest(text=TEXT, config=WAV))
        events = [m.WhichOneof("event") for m in tts.synthesize_stream(SynthesizeStreamRequest(text=TEXT, config=WAV))]
        summary = tts.stream_to_file("sync-stream.wav", SynthesizeStreamRequest(text=TEXT, config=WAV))
        checked = tts.health_stub.Check(health_pb2.HealthCheckRequest(), timeout=10)
        result = {
            "unary": {"duration": unary.duration_seconds, "sampleRate": unary.sample_rate, "bytes": len(unary.audio)},
            "plainText": len(tts.synthesize_to_bytes("Hello.")),
            "events": events,
            "summary": {"duration": summary.duration_seconds, "bytes": summary.audio_bytes},
            "serving": tts.is_serving(),
            "standardHealth": health_pb2.HealthCheckResponse.ServingStatus.Name(checked.status),
        }
        try:
            tts.synthesize(SynthesizeRequest(text=TEXT, config=SynthesisConfig(speed=9)))
        except TtsError as error:
            result["invalid"] = failure(error)
        try:
            # A deadline far too short for this text.
            tts.synthesize(" ".join([TEXT] * 8), timeout=0.02)
        except TtsError as error:
            result["deadline"] = failure(error)
    with TtsClient(target) as keyless:
        try:
            keyless.is_serving()
        except TtsError as error:
            result["keyless"] = failure(error)
    return result


async def calls_async() -> dict:
    async with AsyncTtsClient(target, api_key=api_key, timeout=120) as tts:
        unary = await tts.synthesize_to_file("async.wav", SynthesizeRequest(text=TEXT, config=WAV))
        chunks = [audio async for audio in tts.audio_stream(SynthesizeStreamRequest(text=TEXT, config=WAV))]
        with open("async-stream.wav", "wb") as file:
            file.write(b"".join(chunks))
        checked = await tts.health_stub.Check(health_pb2.HealthCheckRequest(), timeout=10)
        result = {
            "unary": {"duration": unary.duration_seconds, "sampleRate": unary.sample_rate, "bytes": len(unary.audio)},
            "chunks": len(chunks),
            "serving": await tts.is_serving(),
            "standardHealth": health_pb2.HealthCheckResponse.ServingStatus.Name(checked.status),
        }
        try:
            async for _ in tts.audio_stream(SynthesizeStreamRequest(text="   ", config=WAV)):
                pass
        except TtsError as error:
            result["invalid"] = failure(error)
        return result


def refused() -> dict:
    """Every call refused while the server's one slot is taken: two attempts each, then the refusal."""
    retry = Retry(max_attempts=2, max_delay=60)
    result = {}
    with TtsClient(target, api_key=api_key, retry=retry, timeout=120) as tts:
        try:
            tts.synthesize("Refused.")
        except TtsError as error:
            result["sync"] = failure(error)
        try:
            list(tts.audio_stream("Refused."))
        except TtsError as error:
            result["syncStream"] = failure(error)

    async def refused_async() -> None:
        async with AsyncTtsClient(target, api_key=api_key, retry=retry, timeout=120) as tts:
            try:
                await tts.synthesize("Refused.")
            except TtsError as error:
                result["async"] = failure(error)

    asyncio.run(refused_async())
    return result


PCM_WORDS = SynthesisConfig(encoding=AudioEncoding.AUDIO_ENCODING_PCM, enable_word_timestamps=True)
TOKENS = ["Hel", "lo", " there", ".", " How", " are", " you", "?"]
LONG = "This first reply runs on and on, sentence after sentence, so that the listener can cut it short. " * 3


def live_events(events: list) -> list:
    """The session's events as JSON: audio as its byte count."""
    out = []
    for event in events:
        if isinstance(event, LiveStart):
            out.append({"type": "start", "sampleRate": event.sample_rate})
        elif isinstance(event, LiveAudio):
            out.append({"type": "audio", "context": event.context_id, "bytes": len(event.audio), "offset": event.sample_offset})
        elif isinstance(event, LiveWords):
            out.append({"type": "words", "context": event.context_id, "words": [w.word for w in event.words]})
        elif isinstance(event, LiveUtteranceEnd):
            out.append(
                {
                    "type": "end",
                    "context": event.context_id,
                    "cancelled": event.cancelled,
                    "bytes": event.audio_bytes,
                    "seconds": event.duration_seconds,
                    "error": event.error_code,
                    "message": event.error_message,
                }
            )
    return out


def live_sync() -> list:
    """Tokens sent from another thread as a model writes them; this thread reads the events."""
    with TtsClient(target, api_key=api_key) as tts, tts.live_session(PCM_WORDS) as live:

        def write() -> None:
            for token in TOKENS:
                live.send(token)
                time.sleep(0.01)
            live.close()

        threading.Thread(target=write).start()
        return live_events(list(live))


async def live_async() -> dict:
    """A barge-in after close(): utterance "a" is cancelled at its second piece of audio, "b"
    is still spoken, "c" is an SSML document that is not valid; then a session refused whole."""
    result = {}
    async with AsyncTtsClient(target, api_key=api_key) as tts:
        async with tts.live_session(PCM_WORDS) as live:
            live.send(LONG, context_id="a")
            live.send("Then a short one.", context_id="b")
            live.send_ssml("<speak>Unclosed", context_id="c")
            live.close()
            events = []
            async for event in live:
                events.append(event)
                if isinstance(event, LiveAudio) and event.context_id == "a" and event.sequence == 1:
                    live.cancel("a")
            result["events"] = live_events(events)
        try:
            async with tts.live_session(SynthesisConfig(speed=9)) as refused:
                refused.close()
                async for _ in refused:
                    pass
        except TtsError as error:
            result["refused"] = failure(error)
    return result


if mode == "calls":
    print(json.dumps({"sync": calls_sync(), "async": asyncio.run(calls_async())}))
elif mode == "live":
    print(json.dumps({"sync": live_sync(), "async": asyncio.run(live_async())}))
else:
    print(json.dumps(refused()))
