"""A sibling service's use of aetheros-tts-client, run by test/client/python.test.ts from a
fresh venv: `python consumer.py calls|refused TARGET API_KEY` prints one JSON object."""

import asyncio
import json
import sys

from grpc_health.v1 import health_pb2

from aetheros_tts import (
    AsyncTtsClient,
    AudioEncoding,
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


if mode == "calls":
    print(json.dumps({"sync": calls_sync(), "async": asyncio.run(calls_async())}))
else:
    print(json.dumps(refused()))
