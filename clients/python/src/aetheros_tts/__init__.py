"""Client for the AetherOS text-to-speech service (gRPC), for sync and asyncio code.

    from aetheros_tts import TtsClient
    with TtsClient("localhost:8002") as tts:
        tts.synthesize_to_file("hello.wav", "Hello from Python.")

The generated messages and stubs are aetheros.tts.v1.tts_pb2 and tts_pb2_grpc; the standard
health service's are grpc_health.v1 (grpcio-health-checking).
"""

from aetheros.tts.v1.tts_pb2 import (
    AudioEncoding,
    HealthStatus,
    SynthesisConfig,
    SynthesizeRequest,
    SynthesizeResponse,
    SynthesizeStreamRequest,
    SynthesizeStreamResponse,
)

from ._aio import AsyncTtsClient
from ._common import RETRY_AFTER_METADATA, Retry, Tls, TtsError
from ._live import (
    AsyncLiveSession,
    LiveAudio,
    LiveEvent,
    LiveSession,
    LiveStart,
    LiveTimepoint,
    LiveUtteranceEnd,
    LiveWord,
    LiveWords,
)
from ._sync import TtsClient

__all__ = [
    "RETRY_AFTER_METADATA",
    "AsyncLiveSession",
    "AsyncTtsClient",
    "AudioEncoding",
    "HealthStatus",
    "LiveAudio",
    "LiveEvent",
    "LiveSession",
    "LiveStart",
    "LiveTimepoint",
    "LiveUtteranceEnd",
    "LiveWord",
    "LiveWords",
    "Retry",
    "SynthesisConfig",
    "SynthesizeRequest",
    "SynthesizeResponse",
    "SynthesizeStreamRequest",
    "SynthesizeStreamResponse",
    "Tls",
    "TtsClient",
    "TtsError",
]
