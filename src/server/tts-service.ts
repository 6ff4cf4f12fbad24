// TtsService: proto messages in and out, everything else delegated. Requests are validated
// into SpeechRequests and handed to the Synthesizer; typed errors thrown below become
// statuses in mapErrors (src/server/errors.ts).

import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import packageJson from "../../package.json" with { type: "json" };
import {
  AudioChunkSchema,
  CacheTierStatsSchema,
  ClearCacheResponseSchema,
  GetCacheStatsResponseSchema,
  HealthResponseSchema,
  HealthStatus,
  ListVoicesResponseSchema,
  SpeakerSchema,
  SynthesizeResponseSchema,
  SynthesizeStreamResponseSchema,
  StreamSummarySchema,
  type StreamingSynthesizeRequest,
  StreamingSynthesizeResponseSchema,
  type StreamingSynthesizeResponse,
  TtsService,
  VoiceProblemSchema,
  VoiceSchema,
  WordTimestampSchema,
  type SynthesizeStreamResponse,
} from "../../gen/aetheros/tts/v1/tts_pb.js";
import type { AudioCache, CacheTierStats } from "../cache/index.js";
import type { Engine, VoiceLanguage } from "../engine/index.js";
import { InvalidArgumentError, type ServiceError } from "../errors/index.js";
import {
  type LiveEvent,
  type LiveInput,
  type LiveLimits,
  liveSession,
  type SpeechSummary,
  type StreamEvent,
  type Synthesizer,
  validateConfig,
  validateRequest,
  type WordTimestamp,
} from "../synthesis/index.js";
import { bcp47, matchesLanguage, type VoiceCatalog } from "../voices/index.js";
import { ServingStatus, type HealthReporter } from "./health.js";
import { CLIENT, codeName } from "./pipeline.js";
import { toConnectError } from "./status.js";

export interface TtsServiceDeps {
  synthesizer: Synthesizer;
  catalog: VoiceCatalog;
  engine: Engine;
  cache: AudioCache;
  health: HealthReporter;
  limits: LiveLimits;
  /** StreamingSynthesize's defaults for what a stream's config leaves unset. */
  streaming: { maxBufferDelayMs: number; maxBufferedCharacters: number };
  defaultVoice: string;
}

export function createTtsService(deps: TtsServiceDeps): ServiceImpl<typeof TtsService> {
  const { synthesizer, catalog, engine, cache, health, limits, defaultVoice } = deps;
  const liveStream = createLiveStream(deps);
  return {
    async synthesize(request, context) {
      const speech = validateRequest(request.text, request.config, limits, request.ssml);
      const result = await synthesizer.synthesize(speech, context.signal, context.values.get(CLIENT));
      return create(SynthesizeResponseSchema, {
        audio: result.audio.bytes,
        encoding: speech.encoding,
        sampleRate: result.audio.sampleRate,
        durationSeconds: result.audio.durationSeconds,
        cached: result.cached,
        generationTimeMs: result.generationTimeMs,
        textLength: [...(request.ssml || request.text)].length,
        modelUsed: result.audio.modelUsed,
        words: speech.wordTimestamps ? (result.audio.words ?? []).map(wordTimestamp) : [],
        timepoints: result.timepoints,
      });
    },

    async *synthesizeStream(request, context) {
      const speech = validateRequest(request.text, request.config, limits, request.ssml);
      for await (const event of synthesizer.stream(speech, context.signal, context.values.get(CLIENT))) {
        yield toStreamResponse(event);
      }
    },

    streamingSynthesize(requests, context) {
      return liveStream(requests, context.signal, context.values.get(CLIENT));
    },

    async listVoices(request) {
      await catalog.scan();
      const voices = catalog
        .list()
        .filter((voice) => matchesLanguage(voice.config.language, request.language))
        .map((voice) => {
          const { config } = voice;
          const language = config.language;
          return create(VoiceSchema, {
            id: voice.id,
            displayName: displayName(voice.id, language),
            languageCode: bcp47(language.code),
            piperLanguageCode: language.code,
            languageName: language.nameEnglish,
            quality: config.quality,
            sampleRate: config.sampleRate,
            numSpeakers: config.numSpeakers,
            speakers: [...config.speakerIdMap].map(([name, id]) => create(SpeakerSchema, { name, id })),
            sizeBytes: BigInt(voice.sizeBytes),
            loaded: engine.isLoaded(voice.id),
            dataset: config.dataset,
          });
        });
      return create(ListVoicesResponseSchema, { voices, defaultVoice });
    },

    async health() {
      const serving = health.status(TtsService.typeName) === ServingStatus.SERVING;
      const stats = cache.stats();
      const voices = engine.status();
      return create(HealthResponseSchema, {
        status: serving ? HealthStatus.SERVING : HealthStatus.NOT_SERVING,
        modelLoaded: engine.isLoaded(defaultVoice),
        loadedVoices: voices.loaded,
        degradedVoices: voices.degraded.map((problem) => create(VoiceProblemSchema, problem)),
        cacheEntries: BigInt(stats.total.entries),
        uptimeSeconds: process.uptime(),
        version: packageJson.version,
        defaultVoice,
      });
    },

    async getCacheStats() {
      const stats = cache.stats();
      return create(GetCacheStatsResponseSchema, {
        total: tierStats(stats.total),
        tiers: stats.tiers.map(tierStats),
        enabled: stats.enabled,
      });
    },

    async clearCache() {
      const cleared = await cache.clear();
      return create(ClearCacheResponseSchema, {
        entriesRemoved: BigInt(cleared.entriesRemoved),
        bytesRemoved: BigInt(cleared.bytesRemoved),
      });
    },
  };
}

/**
 * StreamingSynthesize without its transport: requests in, responses out, for the RPC and
 * the WebSocket route (websocket.ts) alike. `signal` ends the session; `client` is who calls.
 */
export type LiveStream = (
  requests: AsyncIterable<StreamingSynthesizeRequest>,
  signal: AbortSignal,
  client: string,
) => AsyncGenerator<StreamingSynthesizeResponse>;

export function createLiveStream({
  synthesizer,
  limits,
  streaming,
}: Pick<TtsServiceDeps, "synthesizer" | "limits" | "streaming">): LiveStream {
  return async function* (requests, signal, client) {
    const iterator = requests[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done) return;
    if (first.value.request.case !== "config") {
      throw new InvalidArgumentError(
        "config",
        `the first message of a stream must carry config; it carried ${first.value.request.case ?? "nothing"}`,
      );
    }
    const { config, maxBufferDelayMs, maxBufferedCharacters } = first.value.request.value;
    const settings = {
      request: validateConfig(config),
      maxBufferDelayMs: inRange("config.max_buffer_delay_ms", maxBufferDelayMs, 20, 10_000, streaming.maxBufferDelayMs),
      maxBufferedCharacters: inRange(
        "config.max_buffered_characters",
        maxBufferedCharacters,
        20,
        limits.maxTextLength,
        streaming.maxBufferedCharacters,
      ),
    };
    const input = liveInput({ [Symbol.asyncIterator]: () => iterator });
    for await (const event of liveSession(synthesizer, settings, input, signal, client, limits)) {
      yield toLiveResponse(event);
    }
  };
}

/** "en_US-joe-medium" → "Joe (English, United States)". */
function displayName(id: string, language: VoiceLanguage): string {
  const name = id.split("-")[1] ?? id;
  const where = [language.nameEnglish || language.code, language.countryEnglish].filter(Boolean).join(", ");
  return `${name.charAt(0).toUpperCase()}${name.slice(1)} (${where})`;
}

function tierStats(stats: CacheTierStats) {
  return create(CacheTierStatsSchema, {
    tier: stats.tier,
    hits: BigInt(stats.hits),
    misses: BigInt(stats.misses),
    hitRate: stats.hitRate,
    entries: BigInt(stats.entries),
    sizeBytes: BigInt(stats.sizeBytes),
    evictions: BigInt(stats.evictions),
    errors: BigInt(stats.errors),
    available: stats.available,
    sizeAgeSeconds: stats.sizeAgeSeconds,
  });
}

function inRange(field: string, value: number | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (value < min || value > max) throw new InvalidArgumentError(field, `${value} is out of range; allowed ${min} to ${max}`);
  return value;
}

/** The requests after the config, as the live session's input; a second config is refused. */
async function* liveInput(requests: AsyncIterable<StreamingSynthesizeRequest>): AsyncGenerator<LiveInput> {
  for await (const { request } of requests) {
    switch (request.case) {
      case "input":
        yield {
          type: "text",
          contextId: request.value.contextId,
          text: request.value.text,
          ssml: request.value.ssml,
          flush: request.value.flush,
          end: request.value.endUtterance,
        };
        break;
      case "cancel":
        yield { type: "cancel", contextId: request.value.contextId };
        break;
      case "config":
        throw new InvalidArgumentError("config", "sent twice; only the first message of a stream may carry it");
      default:
        throw new InvalidArgumentError("request", "a message must carry config, input or cancel; this one carried none");
    }
  }
}

/** An error that ended one utterance, as the status a call would have failed with. */
function utteranceError(error: ServiceError) {
  const status = toConnectError(error);
  return { code: codeName(status.code).toUpperCase(), message: status.rawMessage };
}

function wordTimestamp(word: WordTimestamp) {
  return create(WordTimestampSchema, word);
}

/** A stream's chunk, or a live utterance's (which names its context). */
function audioChunk(chunk: { bytes: Uint8Array; sequence: number; sentenceIndex: number; sampleOffset: number; contextId?: string }) {
  const { bytes, sequence, sentenceIndex, sampleOffset, contextId = "" } = chunk;
  return create(AudioChunkSchema, { audio: bytes, sequence, sentenceIndex, sampleOffset: BigInt(sampleOffset), contextId });
}

function streamSummary(summary: SpeechSummary) {
  return create(StreamSummarySchema, { ...summary, audioBytes: BigInt(summary.audioBytes) });
}

function toLiveResponse(event: LiveEvent): StreamingSynthesizeResponse {
  switch (event.type) {
    case "start":
      return create(StreamingSynthesizeResponseSchema, {
        event: {
          case: "start",
          value: { encoding: event.encoding, sampleRate: event.sampleRate, channels: 1, voice: event.voice, modelUsed: event.modelUsed },
        },
      });
    case "timestamps":
      return create(StreamingSynthesizeResponseSchema, {
        event: {
          case: "timestamps",
          value: {
            contextId: event.contextId,
            sentenceIndex: event.sentenceIndex,
            words: event.words.map(wordTimestamp),
            timepoints: event.timepoints,
          },
        },
      });
    case "chunk":
      return create(StreamingSynthesizeResponseSchema, { event: { case: "chunk", value: audioChunk(event) } });
    case "end":
      return create(StreamingSynthesizeResponseSchema, {
        event: {
          case: "utteranceEnd",
          value: {
            contextId: event.contextId,
            cancelled: event.cancelled,
            summary: streamSummary(event.summary),
            ...(event.error && { error: utteranceError(event.error) }),
          },
        },
      });
  }
}

function toStreamResponse(event: StreamEvent): SynthesizeStreamResponse {
  switch (event.type) {
    case "start":
      return create(SynthesizeStreamResponseSchema, {
        event: {
          case: "start",
          value: {
            encoding: event.encoding,
            sampleRate: event.sampleRate,
            channels: 1,
            voice: event.voice,
            modelUsed: event.modelUsed,
          },
        },
      });
    case "chunk":
      return create(SynthesizeStreamResponseSchema, { event: { case: "chunk", value: audioChunk(event) } });
    case "timestamps":
      return create(SynthesizeStreamResponseSchema, {
        event: {
          case: "timestamps",
          value: { sentenceIndex: event.sentenceIndex, words: event.words.map(wordTimestamp), timepoints: event.timepoints },
        },
      });
    case "summary":
      return create(SynthesizeStreamResponseSchema, {
        event: { case: "summary", value: streamSummary(event) },
      });
  }
}
