from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AudioEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIO_ENCODING_UNSPECIFIED: _ClassVar[AudioEncoding]
    AUDIO_ENCODING_WAV: _ClassVar[AudioEncoding]
    AUDIO_ENCODING_PCM: _ClassVar[AudioEncoding]
    AUDIO_ENCODING_MP3: _ClassVar[AudioEncoding]
    AUDIO_ENCODING_OGG_OPUS: _ClassVar[AudioEncoding]
    AUDIO_ENCODING_FLAC: _ClassVar[AudioEncoding]
    AUDIO_ENCODING_MULAW: _ClassVar[AudioEncoding]
    AUDIO_ENCODING_ALAW: _ClassVar[AudioEncoding]
    AUDIO_ENCODING_WAV_MULAW: _ClassVar[AudioEncoding]
    AUDIO_ENCODING_WAV_ALAW: _ClassVar[AudioEncoding]

class Normalization(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NORMALIZATION_UNSPECIFIED: _ClassVar[Normalization]
    NORMALIZATION_NONE: _ClassVar[Normalization]
    NORMALIZATION_SENTENCE_PEAK: _ClassVar[Normalization]

class HealthStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEALTH_STATUS_UNSPECIFIED: _ClassVar[HealthStatus]
    HEALTH_STATUS_SERVING: _ClassVar[HealthStatus]
    HEALTH_STATUS_NOT_SERVING: _ClassVar[HealthStatus]
AUDIO_ENCODING_UNSPECIFIED: AudioEncoding
AUDIO_ENCODING_WAV: AudioEncoding
AUDIO_ENCODING_PCM: AudioEncoding
AUDIO_ENCODING_MP3: AudioEncoding
AUDIO_ENCODING_OGG_OPUS: AudioEncoding
AUDIO_ENCODING_FLAC: AudioEncoding
AUDIO_ENCODING_MULAW: AudioEncoding
AUDIO_ENCODING_ALAW: AudioEncoding
AUDIO_ENCODING_WAV_MULAW: AudioEncoding
AUDIO_ENCODING_WAV_ALAW: AudioEncoding
NORMALIZATION_UNSPECIFIED: Normalization
NORMALIZATION_NONE: Normalization
NORMALIZATION_SENTENCE_PEAK: Normalization
HEALTH_STATUS_UNSPECIFIED: HealthStatus
HEALTH_STATUS_SERVING: HealthStatus
HEALTH_STATUS_NOT_SERVING: HealthStatus

class SynthesisConfig(_message.Message):
    __slots__ = ("voice", "speaker", "language", "encoding", "sample_rate", "speed", "pitch", "volume", "noise_scale", "noise_w", "sentence_silence", "use_cache", "enable_word_timestamps", "frame_ms", "lexicons", "custom_pronunciations", "normalization")
    VOICE_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    SPEED_FIELD_NUMBER: _ClassVar[int]
    PITCH_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    NOISE_SCALE_FIELD_NUMBER: _ClassVar[int]
    NOISE_W_FIELD_NUMBER: _ClassVar[int]
    SENTENCE_SILENCE_FIELD_NUMBER: _ClassVar[int]
    USE_CACHE_FIELD_NUMBER: _ClassVar[int]
    ENABLE_WORD_TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    FRAME_MS_FIELD_NUMBER: _ClassVar[int]
    LEXICONS_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_PRONUNCIATIONS_FIELD_NUMBER: _ClassVar[int]
    NORMALIZATION_FIELD_NUMBER: _ClassVar[int]
    voice: str
    speaker: str
    language: str
    encoding: AudioEncoding
    sample_rate: int
    speed: float
    pitch: float
    volume: float
    noise_scale: float
    noise_w: float
    sentence_silence: float
    use_cache: bool
    enable_word_timestamps: bool
    frame_ms: int
    lexicons: _containers.RepeatedScalarFieldContainer[str]
    custom_pronunciations: _containers.RepeatedCompositeFieldContainer[CustomPronunciation]
    normalization: Normalization
    def __init__(self, voice: _Optional[str] = ..., speaker: _Optional[str] = ..., language: _Optional[str] = ..., encoding: _Optional[_Union[AudioEncoding, str]] = ..., sample_rate: _Optional[int] = ..., speed: _Optional[float] = ..., pitch: _Optional[float] = ..., volume: _Optional[float] = ..., noise_scale: _Optional[float] = ..., noise_w: _Optional[float] = ..., sentence_silence: _Optional[float] = ..., use_cache: _Optional[bool] = ..., enable_word_timestamps: _Optional[bool] = ..., frame_ms: _Optional[int] = ..., lexicons: _Optional[_Iterable[str]] = ..., custom_pronunciations: _Optional[_Iterable[_Union[CustomPronunciation, _Mapping]]] = ..., normalization: _Optional[_Union[Normalization, str]] = ...) -> None: ...

class CustomPronunciation(_message.Message):
    __slots__ = ("phrase", "ipa", "alias")
    PHRASE_FIELD_NUMBER: _ClassVar[int]
    IPA_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    phrase: str
    ipa: str
    alias: str
    def __init__(self, phrase: _Optional[str] = ..., ipa: _Optional[str] = ..., alias: _Optional[str] = ...) -> None: ...

class Timepoint(_message.Message):
    __slots__ = ("mark_name", "seconds")
    MARK_NAME_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    mark_name: str
    seconds: float
    def __init__(self, mark_name: _Optional[str] = ..., seconds: _Optional[float] = ...) -> None: ...

class WordTimestamp(_message.Message):
    __slots__ = ("word", "text_start", "text_end", "start_seconds", "end_seconds", "sentence_index")
    WORD_FIELD_NUMBER: _ClassVar[int]
    TEXT_START_FIELD_NUMBER: _ClassVar[int]
    TEXT_END_FIELD_NUMBER: _ClassVar[int]
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SENTENCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    word: str
    text_start: int
    text_end: int
    start_seconds: float
    end_seconds: float
    sentence_index: int
    def __init__(self, word: _Optional[str] = ..., text_start: _Optional[int] = ..., text_end: _Optional[int] = ..., start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ..., sentence_index: _Optional[int] = ...) -> None: ...

class Timestamps(_message.Message):
    __slots__ = ("sentence_index", "words", "context_id", "timepoints")
    SENTENCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEPOINTS_FIELD_NUMBER: _ClassVar[int]
    sentence_index: int
    words: _containers.RepeatedCompositeFieldContainer[WordTimestamp]
    context_id: str
    timepoints: _containers.RepeatedCompositeFieldContainer[Timepoint]
    def __init__(self, sentence_index: _Optional[int] = ..., words: _Optional[_Iterable[_Union[WordTimestamp, _Mapping]]] = ..., context_id: _Optional[str] = ..., timepoints: _Optional[_Iterable[_Union[Timepoint, _Mapping]]] = ...) -> None: ...

class SynthesizeRequest(_message.Message):
    __slots__ = ("text", "config", "ssml")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    SSML_FIELD_NUMBER: _ClassVar[int]
    text: str
    config: SynthesisConfig
    ssml: str
    def __init__(self, text: _Optional[str] = ..., config: _Optional[_Union[SynthesisConfig, _Mapping]] = ..., ssml: _Optional[str] = ...) -> None: ...

class SynthesizeResponse(_message.Message):
    __slots__ = ("audio", "encoding", "sample_rate", "duration_seconds", "cached", "generation_time_ms", "text_length", "model_used", "words", "timepoints")
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    GENERATION_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    TEXT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MODEL_USED_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    TIMEPOINTS_FIELD_NUMBER: _ClassVar[int]
    audio: bytes
    encoding: AudioEncoding
    sample_rate: int
    duration_seconds: float
    cached: bool
    generation_time_ms: float
    text_length: int
    model_used: str
    words: _containers.RepeatedCompositeFieldContainer[WordTimestamp]
    timepoints: _containers.RepeatedCompositeFieldContainer[Timepoint]
    def __init__(self, audio: _Optional[bytes] = ..., encoding: _Optional[_Union[AudioEncoding, str]] = ..., sample_rate: _Optional[int] = ..., duration_seconds: _Optional[float] = ..., cached: _Optional[bool] = ..., generation_time_ms: _Optional[float] = ..., text_length: _Optional[int] = ..., model_used: _Optional[str] = ..., words: _Optional[_Iterable[_Union[WordTimestamp, _Mapping]]] = ..., timepoints: _Optional[_Iterable[_Union[Timepoint, _Mapping]]] = ...) -> None: ...

class SynthesizeStreamRequest(_message.Message):
    __slots__ = ("text", "config", "ssml")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    SSML_FIELD_NUMBER: _ClassVar[int]
    text: str
    config: SynthesisConfig
    ssml: str
    def __init__(self, text: _Optional[str] = ..., config: _Optional[_Union[SynthesisConfig, _Mapping]] = ..., ssml: _Optional[str] = ...) -> None: ...

class SynthesizeStreamResponse(_message.Message):
    __slots__ = ("start", "chunk", "summary", "timestamps")
    START_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    start: StreamStart
    chunk: AudioChunk
    summary: StreamSummary
    timestamps: Timestamps
    def __init__(self, start: _Optional[_Union[StreamStart, _Mapping]] = ..., chunk: _Optional[_Union[AudioChunk, _Mapping]] = ..., summary: _Optional[_Union[StreamSummary, _Mapping]] = ..., timestamps: _Optional[_Union[Timestamps, _Mapping]] = ...) -> None: ...

class StreamStart(_message.Message):
    __slots__ = ("encoding", "sample_rate", "channels", "voice", "model_used")
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    VOICE_FIELD_NUMBER: _ClassVar[int]
    MODEL_USED_FIELD_NUMBER: _ClassVar[int]
    encoding: AudioEncoding
    sample_rate: int
    channels: int
    voice: str
    model_used: str
    def __init__(self, encoding: _Optional[_Union[AudioEncoding, str]] = ..., sample_rate: _Optional[int] = ..., channels: _Optional[int] = ..., voice: _Optional[str] = ..., model_used: _Optional[str] = ...) -> None: ...

class AudioChunk(_message.Message):
    __slots__ = ("audio", "sequence", "sentence_index", "sample_offset", "context_id")
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SENTENCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_OFFSET_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_ID_FIELD_NUMBER: _ClassVar[int]
    audio: bytes
    sequence: int
    sentence_index: int
    sample_offset: int
    context_id: str
    def __init__(self, audio: _Optional[bytes] = ..., sequence: _Optional[int] = ..., sentence_index: _Optional[int] = ..., sample_offset: _Optional[int] = ..., context_id: _Optional[str] = ...) -> None: ...

class StreamSummary(_message.Message):
    __slots__ = ("duration_seconds", "generation_time_ms", "cached", "sentence_count", "chunk_count", "audio_bytes")
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    GENERATION_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    SENTENCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    AUDIO_BYTES_FIELD_NUMBER: _ClassVar[int]
    duration_seconds: float
    generation_time_ms: float
    cached: bool
    sentence_count: int
    chunk_count: int
    audio_bytes: int
    def __init__(self, duration_seconds: _Optional[float] = ..., generation_time_ms: _Optional[float] = ..., cached: _Optional[bool] = ..., sentence_count: _Optional[int] = ..., chunk_count: _Optional[int] = ..., audio_bytes: _Optional[int] = ...) -> None: ...

class StreamingSynthesizeRequest(_message.Message):
    __slots__ = ("config", "input", "cancel")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    config: StreamingSynthesisConfig
    input: TextInput
    cancel: CancelUtterance
    def __init__(self, config: _Optional[_Union[StreamingSynthesisConfig, _Mapping]] = ..., input: _Optional[_Union[TextInput, _Mapping]] = ..., cancel: _Optional[_Union[CancelUtterance, _Mapping]] = ...) -> None: ...

class StreamingSynthesisConfig(_message.Message):
    __slots__ = ("config", "max_buffer_delay_ms", "max_buffered_characters")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    MAX_BUFFER_DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_BUFFERED_CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    config: SynthesisConfig
    max_buffer_delay_ms: int
    max_buffered_characters: int
    def __init__(self, config: _Optional[_Union[SynthesisConfig, _Mapping]] = ..., max_buffer_delay_ms: _Optional[int] = ..., max_buffered_characters: _Optional[int] = ...) -> None: ...

class TextInput(_message.Message):
    __slots__ = ("context_id", "text", "flush", "end_utterance", "ssml")
    CONTEXT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FLUSH_FIELD_NUMBER: _ClassVar[int]
    END_UTTERANCE_FIELD_NUMBER: _ClassVar[int]
    SSML_FIELD_NUMBER: _ClassVar[int]
    context_id: str
    text: str
    flush: bool
    end_utterance: bool
    ssml: str
    def __init__(self, context_id: _Optional[str] = ..., text: _Optional[str] = ..., flush: _Optional[bool] = ..., end_utterance: _Optional[bool] = ..., ssml: _Optional[str] = ...) -> None: ...

class CancelUtterance(_message.Message):
    __slots__ = ("context_id",)
    CONTEXT_ID_FIELD_NUMBER: _ClassVar[int]
    context_id: str
    def __init__(self, context_id: _Optional[str] = ...) -> None: ...

class StreamingSynthesizeResponse(_message.Message):
    __slots__ = ("start", "chunk", "timestamps", "utterance_end")
    START_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_END_FIELD_NUMBER: _ClassVar[int]
    start: StreamStart
    chunk: AudioChunk
    timestamps: Timestamps
    utterance_end: UtteranceEnd
    def __init__(self, start: _Optional[_Union[StreamStart, _Mapping]] = ..., chunk: _Optional[_Union[AudioChunk, _Mapping]] = ..., timestamps: _Optional[_Union[Timestamps, _Mapping]] = ..., utterance_end: _Optional[_Union[UtteranceEnd, _Mapping]] = ...) -> None: ...

class UtteranceEnd(_message.Message):
    __slots__ = ("context_id", "cancelled", "summary", "error")
    CONTEXT_ID_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    context_id: str
    cancelled: bool
    summary: StreamSummary
    error: UtteranceError
    def __init__(self, context_id: _Optional[str] = ..., cancelled: _Optional[bool] = ..., summary: _Optional[_Union[StreamSummary, _Mapping]] = ..., error: _Optional[_Union[UtteranceError, _Mapping]] = ...) -> None: ...

class UtteranceError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ListVoicesRequest(_message.Message):
    __slots__ = ("language",)
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    language: str
    def __init__(self, language: _Optional[str] = ...) -> None: ...

class ListVoicesResponse(_message.Message):
    __slots__ = ("voices", "default_voice")
    VOICES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VOICE_FIELD_NUMBER: _ClassVar[int]
    voices: _containers.RepeatedCompositeFieldContainer[Voice]
    default_voice: str
    def __init__(self, voices: _Optional[_Iterable[_Union[Voice, _Mapping]]] = ..., default_voice: _Optional[str] = ...) -> None: ...

class Voice(_message.Message):
    __slots__ = ("id", "display_name", "language_code", "piper_language_code", "language_name", "quality", "sample_rate", "num_speakers", "speakers", "gender", "size_bytes", "loaded", "dataset")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    PIPER_LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_NAME_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    NUM_SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    LOADED_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    language_code: str
    piper_language_code: str
    language_name: str
    quality: str
    sample_rate: int
    num_speakers: int
    speakers: _containers.RepeatedCompositeFieldContainer[Speaker]
    gender: str
    size_bytes: int
    loaded: bool
    dataset: str
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., language_code: _Optional[str] = ..., piper_language_code: _Optional[str] = ..., language_name: _Optional[str] = ..., quality: _Optional[str] = ..., sample_rate: _Optional[int] = ..., num_speakers: _Optional[int] = ..., speakers: _Optional[_Iterable[_Union[Speaker, _Mapping]]] = ..., gender: _Optional[str] = ..., size_bytes: _Optional[int] = ..., loaded: _Optional[bool] = ..., dataset: _Optional[str] = ...) -> None: ...

class Speaker(_message.Message):
    __slots__ = ("name", "id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: int
    def __init__(self, name: _Optional[str] = ..., id: _Optional[int] = ...) -> None: ...

class HealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HealthResponse(_message.Message):
    __slots__ = ("status", "model_loaded", "loaded_voices", "cache_entries", "uptime_seconds", "version", "default_voice", "degraded_voices")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MODEL_LOADED_FIELD_NUMBER: _ClassVar[int]
    LOADED_VOICES_FIELD_NUMBER: _ClassVar[int]
    CACHE_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VOICE_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_VOICES_FIELD_NUMBER: _ClassVar[int]
    status: HealthStatus
    model_loaded: bool
    loaded_voices: _containers.RepeatedScalarFieldContainer[str]
    cache_entries: int
    uptime_seconds: float
    version: str
    default_voice: str
    degraded_voices: _containers.RepeatedCompositeFieldContainer[VoiceProblem]
    def __init__(self, status: _Optional[_Union[HealthStatus, str]] = ..., model_loaded: _Optional[bool] = ..., loaded_voices: _Optional[_Iterable[str]] = ..., cache_entries: _Optional[int] = ..., uptime_seconds: _Optional[float] = ..., version: _Optional[str] = ..., default_voice: _Optional[str] = ..., degraded_voices: _Optional[_Iterable[_Union[VoiceProblem, _Mapping]]] = ...) -> None: ...

class VoiceProblem(_message.Message):
    __slots__ = ("voice", "problem", "serving")
    VOICE_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    SERVING_FIELD_NUMBER: _ClassVar[int]
    voice: str
    problem: str
    serving: bool
    def __init__(self, voice: _Optional[str] = ..., problem: _Optional[str] = ..., serving: _Optional[bool] = ...) -> None: ...

class GetCacheStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCacheStatsResponse(_message.Message):
    __slots__ = ("total", "tiers", "enabled")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    TIERS_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    total: CacheTierStats
    tiers: _containers.RepeatedCompositeFieldContainer[CacheTierStats]
    enabled: bool
    def __init__(self, total: _Optional[_Union[CacheTierStats, _Mapping]] = ..., tiers: _Optional[_Iterable[_Union[CacheTierStats, _Mapping]]] = ..., enabled: _Optional[bool] = ...) -> None: ...

class CacheTierStats(_message.Message):
    __slots__ = ("tier", "hits", "misses", "hit_rate", "entries", "size_bytes", "evictions", "errors", "available", "size_age_seconds")
    TIER_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    HIT_RATE_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    EVICTIONS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    SIZE_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    tier: str
    hits: int
    misses: int
    hit_rate: float
    entries: int
    size_bytes: int
    evictions: int
    errors: int
    available: bool
    size_age_seconds: float
    def __init__(self, tier: _Optional[str] = ..., hits: _Optional[int] = ..., misses: _Optional[int] = ..., hit_rate: _Optional[float] = ..., entries: _Optional[int] = ..., size_bytes: _Optional[int] = ..., evictions: _Optional[int] = ..., errors: _Optional[int] = ..., available: _Optional[bool] = ..., size_age_seconds: _Optional[float] = ...) -> None: ...

class ClearCacheRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ClearCacheResponse(_message.Message):
    __slots__ = ("entries_removed", "bytes_removed")
    ENTRIES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    BYTES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    entries_removed: int
    bytes_removed: int
    def __init__(self, entries_removed: _Optional[int] = ..., bytes_removed: _Optional[int] = ...) -> None: ...
