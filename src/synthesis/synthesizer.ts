/**
 * The synthesis pipeline, one way through: validated request → voice (from the catalog,
 * nothing loaded) → cache key → cache lookup; only on a miss: admission → plan (phonemize,
 * in a worker) → engine (loads the voice if needed, inference) → audio → bytes. Unary calls
 * and streams share it; a stream sends each sentence's bytes as soon as its inference is done.
 */
import type { Logger } from "pino";
import {
  type AudioEncoder,
  concatBytes,
  createEncoder,
  createResampler,
  createSilence,
  encodingName,
  floatToPcm16,
  type OutputEncoding,
  type Resampler,
  shiftPitch,
} from "../audio/index.js";
import { type AudioCache, type CachedAudio, type CacheResult, cacheKey } from "../cache/index.js";
import type { Engine, PiperVoiceConfig, Plan, SpeechSettings, VoiceModel } from "../engine/index.js";
import { AbortedError, InvalidArgumentError, NotFoundError } from "../errors/index.js";
import { bcp47, matchesLanguage, type VoiceCatalog } from "../voices/index.js";
import type { Admission, Permit } from "./admission.js";
import { ReadAhead } from "./read-ahead.js";
import type { SpeechRequest } from "./request.js";

export interface SynthesizerOptions {
  catalog: VoiceCatalog;
  engine: Engine;
  cache: AudioCache;
  logger: Logger;
  defaultVoice: string;
  streamChunkSize: number;
  /** Slots for syntheses (cache hits need none); absent: no limit. */
  admission?: Admission;
}

/** A request with its voice's model and every setting resolved; nothing loaded or phonemized yet. */
interface ResolvedSpeech {
  request: SpeechRequest;
  model: VoiceModel;
  settings: SpeechSettings;
  /** Rate the samples are resampled to before encoding. */
  encodeRate: number;
  key: string;
  modelUsed: string;
}

export interface SynthesisResult {
  audio: CachedAudio;
  cached: boolean;
  generationTimeMs: number;
}

export type StreamEvent =
  | { type: "start"; encoding: OutputEncoding; sampleRate: number; voice: string; modelUsed: string }
  | { type: "chunk"; bytes: Uint8Array; sequence: number; sentenceIndex: number }
  | {
      type: "summary";
      durationSeconds: number;
      generationTimeMs: number;
      cached: boolean;
      sentenceCount: number;
      chunkCount: number;
      audioBytes: number;
    };

/** Encoded output of one sentence of the plan, or the encoder's final bytes. */
interface RenderedPiece {
  sentenceIndex: number;
  bytes: Uint8Array;
  /** Set on the last piece (the encoder's final bytes): the whole audio's length. */
  durationSeconds?: number;
}

export class Synthesizer {
  constructor(private readonly options: SynthesizerOptions) {}

  /** `client` names the caller for its share of the synthesis queue (an API key's fingerprint, else an address). */
  async synthesize(request: SpeechRequest, signal: AbortSignal, client: string): Promise<SynthesisResult> {
    const started = performance.now();
    const speech = await this.resolve(request);
    const produce = async () => {
      const permit = await this.admit(signal, client);
      try {
        return await this.renderWhole(speech, await this.plan(speech, signal), signal);
      } finally {
        permit.release();
      }
    };
    const result = request.useCache ? await this.sharedOrProduced(speech.key, produce, signal) : { cached: false, audio: await produce() };
    return { audio: result.audio, cached: result.cached, generationTimeMs: performance.now() - started };
  }

  /**
   * getOrCreate runs one synthesis for every concurrent caller of a key, under the signal
   * of the caller that started it. When that caller cancels or runs out of time, the
   * others are still waiting: they try again (one of them now synthesizing) rather than
   * fail with another client's cancellation.
   */
  private async sharedOrProduced(key: string, produce: () => Promise<CachedAudio>, signal: AbortSignal): Promise<CacheResult> {
    for (;;) {
      try {
        return await this.options.cache.getOrCreate(key, produce);
      } catch (error) {
        if (!(error instanceof AbortedError) || signal.aborted) throw error;
      }
    }
  }

  async *stream(request: SpeechRequest, signal: AbortSignal, client: string): AsyncGenerator<StreamEvent> {
    const started = performance.now();
    const speech = await this.resolve(request);
    const start = { type: "start", voice: speech.model.id, modelUsed: speech.modelUsed, encoding: request.encoding } as const;
    const chunker = new Chunker(this.options.streamChunkSize);

    const hit = request.useCache ? await this.options.cache.get(speech.key) : undefined;
    if (hit) {
      yield { ...start, sampleRate: hit.audio.sampleRate };
      yield* chunker.replay(hit.audio);
      yield chunker.summary(hit.audio.durationSeconds, performance.now() - started, true, hit.audio.sentenceByteEnds?.length ?? 1);
      return;
    }

    const permit = await this.admit(signal, client);
    let rendering: ReadAhead<RenderedPiece> | undefined;
    try {
      const plan = await this.plan(speech, signal);
      const streamed = await createEncoder(request.encoding, speech.encodeRate, { streaming: true });
      // Unary hits are served from the same entry, so the cache gets the whole file a unary
      // call returns (a stream's headers say "unknown length", an MP3 stream has no Info frame),
      // encoded alongside the stream from the same samples.
      const whole = request.useCache
        ? new WholeFile(streamed, await createEncoder(request.encoding, speech.encodeRate, { streaming: false }))
        : undefined;
      // Rendering runs ahead of the client and gives the slot back once the inference is done.
      rendering = new ReadAhead(this.render(speech, plan, whole ?? streamed, signal), () => permit.release());
      yield { ...start, sampleRate: streamed.sampleRate };
      const kept: RenderedPiece[] = [];
      let durationSeconds = 0;
      for await (const piece of rendering) {
        if (whole) kept.push(piece);
        durationSeconds = piece.durationSeconds ?? durationSeconds;
        yield* chunker.split(piece);
      }
      // Only a stream that ran to its end fills the cache.
      if (whole)
        this.options.cache.put(speech.key, whole.cachedAudio(this.cachedAudio(speech, kept, streamed.sampleRate, durationSeconds)));
      yield chunker.summary(durationSeconds, performance.now() - started, false, plan.sentenceCount);
    } finally {
      if (rendering) rendering.stop();
      else permit.release();
    }
  }

  private admit(signal: AbortSignal, client: string): Promise<Permit> {
    return this.options.admission?.acquire(signal, client) ?? Promise.resolve({ release() {} });
  }

  /**
   * Phonemizes in a worker, unless the call is already over (a slot can come free just as
   * its deadline passes); logs phonemes the voice's id map lacks (Piper drops them too).
   */
  private async plan(speech: ResolvedSpeech, signal: AbortSignal): Promise<Plan> {
    if (signal.aborted) throw AbortedError.of(signal);
    const plan = await this.options.engine.plan(speech.model, speech.request.text);
    if (plan.missingPhonemes.length > 0) {
      this.options.logger.debug(
        { voice: speech.model.id, missing: plan.missingPhonemes },
        "phonemes missing from the voice's id map were dropped",
      );
    }
    return plan;
  }

  private async renderWhole(speech: ResolvedSpeech, plan: Plan, signal: AbortSignal): Promise<CachedAudio> {
    const encoder = await createEncoder(speech.request.encoding, speech.encodeRate, { streaming: false });
    const pieces: RenderedPiece[] = [];
    for await (const piece of this.render(speech, plan, encoder, signal)) pieces.push(piece);
    return this.cachedAudio(speech, pieces, encoder.sampleRate, pieces.at(-1)!.durationSeconds!);
  }

  /** Synthesizes and encodes sentence by sentence; the last piece is the encoder's final bytes. */
  private async *render(speech: ResolvedSpeech, plan: Plan, encoder: AudioEncoder, signal: AbortSignal): AsyncGenerator<RenderedPiece> {
    const { request, model, settings, encodeRate } = speech;
    const voiceRate = model.config.sampleRate;
    const resampler: Resampler | undefined = encodeRate === voiceRate ? undefined : await createResampler(voiceRate, encodeRate);
    let samplesOut = 0;
    let sentencesDone = 0;
    let previousSentence = -1;
    let lastSentence = 0;
    const encode = (pcm: Int16Array): Uint8Array => {
      const out = resampler ? resampler.process(pcm) : pcm;
      samplesOut += out.length;
      return encoder.write(out);
    };
    let finished = false;
    try {
      // Piper scales each sentence to its own peak, so a sentence's windows are gathered
      // until its last one before any of them becomes PCM.
      let windows: Float32Array[] = [];
      for await (const { sentence, samples, last } of this.options.engine.synthesize(model, plan, settings, signal)) {
        windows.push(samples);
        if (!last) continue;
        const parts: Uint8Array[] = [];
        if (previousSentence >= 0 && sentence.sentenceIndex !== previousSentence && request.sentenceSilence > 0) {
          parts.push(encode(createSilence(request.sentenceSilence, voiceRate)));
        }
        let pcm = floatToPcm16(joinSamples(windows), request.volume);
        windows = [];
        if (request.pitch !== 1) pcm = await shiftPitch(pcm, voiceRate, request.pitch);
        parts.push(encode(pcm));
        previousSentence = lastSentence = sentence.sentenceIndex;
        sentencesDone += 1;
        yield { sentenceIndex: sentence.sentenceIndex, bytes: concatBytes(parts) };
      }
      finished = true;
    } finally {
      // Reached on errors, on cancellation, and when the consumer stops pulling.
      if (!finished) {
        encoder.end(); // codecs hold native state until end()
        this.options.logger.info(
          { voice: model.id, sentences_done: sentencesDone, sentences_total: plan.sentences.length, aborted: signal.aborted },
          "synthesis stopped early",
        );
      }
    }
    yield { sentenceIndex: lastSentence, bytes: encoder.end(), durationSeconds: samplesOut / encodeRate };
  }

  private cachedAudio(speech: ResolvedSpeech, pieces: RenderedPiece[], sampleRate: number, durationSeconds: number): CachedAudio {
    const sentenceByteEnds: number[] = [];
    let end = 0;
    for (const piece of pieces) {
      end += piece.bytes.length;
      sentenceByteEnds[piece.sentenceIndex] = end;
    }
    return {
      bytes: concatBytes(pieces.map((p) => p.bytes)),
      encoding: encodingName(speech.request.encoding),
      sampleRate,
      durationSeconds,
      modelUsed: speech.modelUsed,
      sentenceByteEnds,
    };
  }

  private async resolve(request: SpeechRequest): Promise<ResolvedSpeech> {
    const voiceId = request.voice || (request.language ? this.voiceForLanguage(request.language) : this.options.defaultVoice);
    const model = this.options.engine.model(await this.options.catalog.voice(voiceId));
    const { config } = model;
    if (request.voice && request.language && !matchesLanguage(config.language, request.language)) {
      throw new InvalidArgumentError(
        "config.language",
        `${JSON.stringify(request.language)} does not match voice ${model.id}, which speaks ${bcp47(config.language.code)}`,
      );
    }
    const speakerId = resolveSpeaker(model.id, config, request.speaker);
    const settings: SpeechSettings = {
      speakerId,
      scales: {
        noiseScale: request.noiseScale ?? config.noiseScale,
        lengthScale: config.lengthScale / request.speed,
        noiseW: request.noiseW ?? config.noiseW,
      },
    };
    const encodeRate = request.sampleRate || config.sampleRate;
    const key = cacheKey({
      text: request.text,
      voice: model.id,
      speakerId,
      speed: request.speed,
      pitch: request.pitch,
      volume: request.volume,
      noiseScale: settings.scales.noiseScale,
      noiseW: settings.scales.noiseW,
      sentenceSilence: request.sentenceSilence,
      encoding: encodingName(request.encoding),
      sampleRate: encodeRate,
      modelHash: model.modelHash,
    });
    return { request, model, settings, encodeRate, key, modelUsed: `piper:${model.id}` };
  }

  private voiceForLanguage(language: string): string {
    const voices = this.options.catalog.list().filter((v) => matchesLanguage(v.config.language, language));
    const preferred = voices.find((v) => v.id === this.options.defaultVoice) ?? voices[0];
    if (!preferred) {
      const spoken = [...new Set(this.options.catalog.list().map((v) => bcp47(v.config.language.code)))].join(", ") || "none";
      throw new NotFoundError("config.language", `no installed voice speaks ${JSON.stringify(language)}; installed languages: ${spoken}`);
    }
    return preferred.id;
  }
}

function resolveSpeaker(voiceId: string, config: PiperVoiceConfig, speaker: string): number {
  if (speaker === "") return config.numSpeakers > 1 ? config.defaultSpeakerId : 0;
  const byName = config.speakerIdMap.get(speaker);
  if (byName !== undefined) return byName;
  if (/^\d+$/.test(speaker) && Number(speaker) < config.numSpeakers) return Number(speaker);
  const names = [...config.speakerIdMap.keys()];
  const allowed =
    config.numSpeakers > 1
      ? `${names.length ? `${names.join(", ")} or ` : ""}ids 0 to ${config.numSpeakers - 1}`
      : "none: it has a single speaker (leave config.speaker empty)";
  throw new NotFoundError("config.speaker", `voice ${voiceId} has no speaker ${JSON.stringify(speaker)}; speakers: ${allowed}`);
}

/**
 * Encodes the same samples twice: the stream's encoder's output is returned, a whole-file
 * encoder's is kept for the cache.
 */
class WholeFile implements AudioEncoder {
  private readonly parts: Uint8Array[] = [];

  constructor(
    private readonly streamed: AudioEncoder,
    private readonly whole: AudioEncoder,
  ) {}

  get sampleRate(): number {
    return this.streamed.sampleRate;
  }

  write(samples: Int16Array): Uint8Array {
    this.parts.push(this.whole.write(samples));
    return this.streamed.write(samples);
  }

  end(): Uint8Array {
    let last: Uint8Array;
    try {
      this.parts.push(this.whole.end());
    } finally {
      last = this.streamed.end(); // both hold native state until end(), even when the other fails
    }
    return last;
  }

  /**
   * The streamed audio as the whole file. Sentence ends carry over where the bytes after
   * them are the same in both files (WAV, PCM and FLAC differ only in header fields, MP3
   * gains an Info frame in front); otherwise the file replays as one piece, as a unary
   * call's does.
   */
  cachedAudio(streamedAudio: CachedAudio): CachedAudio {
    const streamedBytes = streamedAudio.bytes;
    const bytes = concatBytes(this.parts);
    let shared = 0;
    while (
      shared < streamedBytes.length &&
      shared < bytes.length &&
      streamedBytes[streamedBytes.length - 1 - shared] === bytes[bytes.length - 1 - shared]
    )
      shared++;
    const ends = streamedAudio.sentenceByteEnds ?? [];
    const carried = ends.every((end) => end >= streamedBytes.length - shared);
    const shift = bytes.length - streamedBytes.length;
    return { ...streamedAudio, bytes, sentenceByteEnds: carried ? ends.map((end) => end + shift) : [bytes.length] };
  }
}

function joinSamples(windows: readonly Float32Array[]): Float32Array {
  if (windows.length === 1) return windows[0]!;
  const joined = new Float32Array(windows.reduce((n, w) => n + w.length, 0));
  let offset = 0;
  for (const window of windows) {
    joined.set(window, offset);
    offset += window.length;
  }
  return joined;
}

/** Cuts encoded bytes into AudioChunk-sized pieces, numbering them. */
class Chunker {
  private sequence = 0;
  private bytes = 0;

  constructor(private readonly chunkSize: number) {}

  *split(piece: RenderedPiece): Generator<StreamEvent> {
    for (let offset = 0; offset < piece.bytes.length; offset += this.chunkSize) {
      const bytes = piece.bytes.subarray(offset, offset + this.chunkSize);
      this.bytes += bytes.length;
      yield { type: "chunk", bytes, sequence: this.sequence++, sentenceIndex: piece.sentenceIndex };
    }
  }

  /** A cached file, cut at its recorded sentence boundaries and then by size. */
  *replay(audio: CachedAudio): Generator<StreamEvent> {
    const ends = audio.sentenceByteEnds?.length ? audio.sentenceByteEnds : [audio.bytes.length];
    let start = 0;
    for (const [sentenceIndex, end] of ends.entries()) {
      if (end === undefined || end <= start) continue;
      yield* this.split({ sentenceIndex, bytes: audio.bytes.subarray(start, end) });
      start = end;
    }
    if (start < audio.bytes.length) yield* this.split({ sentenceIndex: ends.length - 1, bytes: audio.bytes.subarray(start) });
  }

  summary(durationSeconds: number, generationTimeMs: number, cached: boolean, sentenceCount: number): StreamEvent {
    return { type: "summary", durationSeconds, generationTimeMs, cached, sentenceCount, chunkCount: this.sequence, audioBytes: this.bytes };
  }
}
