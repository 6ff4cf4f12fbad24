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
  concatSamples,
  createEncoder,
  createResampler,
  createSilence,
  encodingName,
  floatToPcm16,
  type OutputEncoding,
  type Resampler,
  bytesPerSample,
  samplesOf,
  shiftPitch,
} from "../audio/index.js";
import { type AudioCache, type CachedAudio, type CacheResult, cacheKey, type TimedWord } from "../cache/index.js";
import {
  type Engine,
  type PiperVoiceConfig,
  type Plan,
  type PlannedSentence,
  type SpeechSettings,
  type TextClause,
  textClauses,
  type VoiceModel,
  wordIntervals,
} from "../engine/index.js";
import { AbortedError, InvalidArgumentError, NotFoundError, NothingToSpeakError } from "../errors/index.js";
import { type LexiconStore, Pronunciations } from "../lexicons/index.js";
import { parseSsml, SILENT_DB } from "../ssml/index.js";
import { AudioEncoding } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { bcp47, matchesLanguage, type VoiceCatalog } from "../voices/index.js";
import type { Admission, Permit } from "./admission.js";
import { ReadAhead } from "./read-ahead.js";
import type { SpeechRequest } from "./request.js";
import { type ScriptItem, type ScriptRun, scriptItems, textSegments } from "./script.js";

export interface SynthesizerOptions {
  catalog: VoiceCatalog;
  engine: Engine;
  cache: AudioCache;
  logger: Logger;
  defaultVoice: string;
  streamChunkSize: number;
  /** Slots for syntheses (cache hits need none); absent: no limit. */
  admission?: Admission;
  /** LEXICONS_DIR's lexicons; absent: none. */
  lexicons?: LexiconStore;
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

/** A spoken word: where it is in the request's text (code points) and in the audio (seconds). */
export type WordTimestamp = TimedWord;

/** A voice resolved for a live session: what its stream start says and the rate it encodes at. */
export interface LiveVoice {
  id: string;
  modelUsed: string;
  encodeRate: number;
  config: PiperVoiceConfig;
}

/** What a live segment gives, in order: per sentence its words, then its audio; last, how it ended. */
export type SegmentEvent =
  | { type: "words"; sentenceIndex: number; words: WordTimestamp[] }
  | { type: "audio"; sentenceIndex: number; pcm: Int16Array }
  | { type: "end"; cached: boolean; sentenceCount: number };

/** Where an SSML <mark> falls in the audio. */
export interface Timepoint {
  markName: string;
  seconds: number;
}

export interface SynthesisResult {
  audio: CachedAudio;
  cached: boolean;
  generationTimeMs: number;
  /** The SSML marks' times, in document order. */
  timepoints: Timepoint[];
}

/** A run of a script (or a break, or trailing marks) as PCM at the output rate, placed and timed. */
export interface ScriptPiece {
  pcm: Int16Array;
  words: WordTimestamp[];
  timepoints: Timepoint[];
  /** Index of the piece's first sentence, and how many it has. */
  firstSentence: number;
  sentenceCount: number;
  cached: boolean;
}

/** The figures that close a stream, or one utterance of a live session (the StreamSummary message). */
export interface SpeechSummary {
  durationSeconds: number;
  generationTimeMs: number;
  cached: boolean;
  sentenceCount: number;
  chunkCount: number;
  audioBytes: number;
}

export type StreamEvent =
  | { type: "start"; encoding: OutputEncoding; sampleRate: number; voice: string; modelUsed: string }
  | { type: "timestamps"; sentenceIndex: number; words: WordTimestamp[]; timepoints: Timepoint[] }
  | { type: "chunk"; bytes: Uint8Array; sequence: number; sentenceIndex: number; sampleOffset: number }
  | ({ type: "summary" } & SpeechSummary);

/** Encoded output of one sentence of the plan, or the encoder's final bytes. */
interface RenderedPiece {
  sentenceIndex: number;
  bytes: Uint8Array;
  /** Samples (at the output rate) written before this piece, and in it. */
  firstSample: number;
  sampleCount: number;
  /** The piece holds its sentence's first samples. */
  opensSentence: boolean;
  /** On the piece that opens a sentence: its words, when the engine gave its durations. */
  words?: WordTimestamp[];
  /** Set on the last piece (the encoder's final bytes): the whole audio's length. */
  durationSeconds?: number;
}

export class Synthesizer {
  constructor(private readonly options: SynthesizerOptions) {}

  /**
   * `client` names the caller for its share of the synthesis queue (an API key's fingerprint,
   * else an address). SSML, or text with pronunciations to apply, is spoken run by run
   * (script.ts); plain text in one piece.
   */
  async synthesize(request: SpeechRequest, signal: AbortSignal, client: string): Promise<SynthesisResult> {
    const pronunciations = this.pronunciations(request);
    if (request.ssml === "" && pronunciations.version === "") return this.synthesizeText(request, signal, client);
    const started = performance.now();
    const script = await this.script(request, pronunciations);
    const encoder = await createEncoder(request.encoding, script.encodeRate, { streaming: false });
    const parts: Uint8Array[] = [];
    const words: WordTimestamp[] = [];
    const timepoints: Timepoint[] = [];
    const sentenceByteEnds: number[] = [];
    let samples = 0;
    let cached = true;
    try {
      for await (const piece of this.renderScript(request, script, signal, client, false)) {
        parts.push(encoder.write(piece.pcm));
        samples += piece.pcm.length;
        words.push(...piece.words);
        timepoints.push(...piece.timepoints);
        cached &&= piece.cached;
        if (piece.sentenceCount > 0)
          sentenceByteEnds[piece.firstSentence + piece.sentenceCount - 1] = parts.reduce((n, p) => n + p.length, 0);
      }
    } finally {
      parts.push(encoder.end());
    }
    const audio: CachedAudio = {
      bytes: concatBytes(parts),
      encoding: encodingName(request.encoding),
      sampleRate: script.encodeRate,
      durationSeconds: samples / script.encodeRate,
      modelUsed: script.modelUsed,
      words,
      wordsText: request.ssml || request.text,
    };
    return { audio, cached, generationTimeMs: performance.now() - started, timepoints };
  }

  /** One text, as one cache entry. */
  private async synthesizeText(request: SpeechRequest, signal: AbortSignal, client: string): Promise<SynthesisResult> {
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
    let result = request.useCache ? await this.sharedOrProduced(speech.key, produce, signal) : { cached: false, audio: await produce() };
    if (result.cached && request.wordTimestamps && !hasWordsFor(result.audio, request.text)) {
      // Stored before timestamps were, or for a text that differs in spacing or Unicode form
      // (the key folds those, the word offsets do not): speak it again and store the words.
      const audio = await produce();
      this.options.cache.put(speech.key, audio);
      result = { cached: false, audio };
    }
    return { audio: result.audio, cached: result.cached, generationTimeMs: performance.now() - started, timepoints: [] };
  }

  /** The voice, rate and model a live session speaks with; nothing loaded yet. */
  async liveVoice(request: SpeechRequest): Promise<LiveVoice> {
    const speech = await this.resolve(request);
    return { id: speech.model.id, modelUsed: speech.modelUsed, encodeRate: speech.encodeRate, config: speech.model.config };
  }

  /** The clauses the voice's phonemizer finds in `text` (in process: it takes microseconds). */
  clauses(voice: LiveVoice, text: string): TextClause[] {
    return textClauses(text, voice.config);
  }

  /**
   * One segment of a live utterance through the streaming path (cache, admission, engine):
   * PCM at the output rate as it is synthesized, each sentence's words before its audio
   * (offsets within `text`, sentences counted from the segment's first), then how it ended.
   */
  async *speakSegment(
    request: SpeechRequest,
    voice: LiveVoice,
    text: string,
    signal: AbortSignal,
    client: string,
  ): AsyncGenerator<SegmentEvent> {
    const segment: SpeechRequest = {
      ...request,
      text,
      encoding: AudioEncoding.PCM,
      sampleRate: voice.encodeRate,
      sentenceSilence: 0,
      frameMs: 0,
    };
    yield* pcmEvents(this.stream(segment, signal, client));
  }

  /**
   * An SSML document sent to a live utterance, parsed now (bad SSML throws the
   * InvalidArgumentError a unary call gets) with the session's pronunciations applied.
   */
  async liveDocument(request: SpeechRequest, ssml: string): Promise<LiveDocument> {
    const document = { ...request, text: "", ssml };
    return { request: document, script: await this.script(document, this.pronunciations(document), true) };
  }

  /**
   * A live utterance's document as the pieces Synthesize makes of it (its runs through the
   * unary path, breaks, marks), PCM at the output rate; times and sentences count from the
   * document's start, word offsets index the document.
   */
  speakDocument(document: LiveDocument, signal: AbortSignal, client: string): AsyncGenerator<ScriptPiece> {
    return this.renderScript(document.request, document.script, signal, client, true);
  }

  /** Cuts one stream's (or utterance's) bytes into chunks, in whole frames when the request asks. */
  chunkCutter(request: SpeechRequest, sampleRate: number): ChunkCutter {
    return new ChunkCutter(this.options.streamChunkSize, request.encoding, (sampleRate * request.frameMs) / 1000);
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
    const pronunciations = this.pronunciations(request);
    if (request.ssml !== "" || pronunciations.version !== "") {
      yield* this.streamScript(request, await this.script(request, pronunciations), signal, client);
      return;
    }
    yield* this.streamText(request, signal, client);
  }

  /** One text as one cache entry, sent window by window (a script's run: its pronunciations already applied). */
  private async *streamText(request: SpeechRequest, signal: AbortSignal, client: string): AsyncGenerator<StreamEvent> {
    const started = performance.now();
    const speech = await this.resolve(request);
    const start = { type: "start", voice: speech.model.id, modelUsed: speech.modelUsed, encoding: request.encoding } as const;
    const chunker = new Chunker(this.chunkCutter(request, speech.encodeRate));

    const hit = request.useCache ? await this.options.cache.get(speech.key) : undefined;
    if (hit && (!request.wordTimestamps || hasWordsFor(hit.audio, request.text))) {
      yield { ...start, sampleRate: hit.audio.sampleRate };
      yield* chunker.replay(hit.audio, request.wordTimestamps);
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
      rendering = new ReadAhead(this.render(speech, plan, whole ?? streamed, signal, true), () => permit.release());
      yield { ...start, sampleRate: streamed.sampleRate };
      const kept: RenderedPiece[] = [];
      let durationSeconds = 0;
      for await (const piece of rendering) {
        if (whole) kept.push(piece);
        durationSeconds = piece.durationSeconds ?? durationSeconds;
        if (request.wordTimestamps && piece.words)
          yield { type: "timestamps", sentenceIndex: piece.sentenceIndex, words: piece.words, timepoints: [] };
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

  /** The request's inline pronunciations and lexicons (DEFAULT_LEXICONS when it names none), compiled. */
  private pronunciations(request: SpeechRequest): Pronunciations {
    const lexicons = this.options.lexicons?.resolve(request.lexicons.length ? request.lexicons : undefined) ?? [];
    return Pronunciations.compile(request.pronunciations, lexicons, "config.custom_pronunciations");
  }

  /**
   * A script must say something or pause: a document of only breaks is its silence, as in
   * Google's and Polly's APIs. `silent` also allows one of only marks (a live utterance's
   * document: its marks still count).
   */
  private async script(request: SpeechRequest, pronunciations: Pronunciations, silent = false): Promise<Script> {
    const segments = request.ssml ? parseSsml(request.ssml).segments : textSegments(request.text);
    const items = scriptItems(segments, pronunciations);
    if (!silent && !items.some((item) => item.kind !== "mark")) throw nothingToSpeak(request);
    // The request's own voice sets the output rate and the name in the stream's start.
    const speech = await this.resolve({ ...request, text: "" });
    return { items, encodeRate: speech.encodeRate, voice: speech.model.id, modelUsed: speech.modelUsed, silent };
  }

  private async *streamScript(request: SpeechRequest, script: Script, signal: AbortSignal, client: string): AsyncGenerator<StreamEvent> {
    const started = performance.now();
    const encoder = await createEncoder(request.encoding, script.encodeRate, { streaming: true });
    const chunker = new Chunker(this.chunkCutter(request, script.encodeRate));
    const pieces = this.renderScript(request, script, signal, client, true);
    let samples = 0;
    let sentences = 0;
    let cached = true;
    let ended = false;
    try {
      // The first piece before the start message: a document that says nothing is refused
      // before it, as a text is (an OpenAI reply's status is still to be sent then).
      let next = await pieces.next();
      yield { type: "start", encoding: request.encoding, sampleRate: script.encodeRate, voice: script.voice, modelUsed: script.modelUsed };
      for (; !next.done; next = await pieces.next()) {
        const piece = next.value;
        const sentenceIndex = piece.firstSentence;
        for (let i = 0; i < Math.max(1, piece.sentenceCount); i++) {
          const words = piece.words.filter((word) => word.sentenceIndex === sentenceIndex + i);
          const timepoints = i === 0 ? piece.timepoints : [];
          if ((request.wordTimestamps && words.length > 0) || timepoints.length > 0)
            yield { type: "timestamps", sentenceIndex: sentenceIndex + i, words: request.wordTimestamps ? words : [], timepoints };
        }
        yield* chunker.split({ sentenceIndex, bytes: encoder.write(piece.pcm), firstSample: samples, sampleCount: piece.pcm.length });
        samples += piece.pcm.length;
        sentences = piece.firstSentence + piece.sentenceCount;
        cached &&= piece.cached;
      }
      ended = true;
      yield* chunker.split({
        sentenceIndex: Math.max(0, sentences - 1),
        bytes: encoder.end(),
        firstSample: samples,
        sampleCount: 0,
        durationSeconds: samples / script.encodeRate,
      });
    } finally {
      if (!ended) {
        encoder.end();
        await pieces.return(undefined);
      }
    }
    yield chunker.summary(samples / script.encodeRate, performance.now() - started, cached, sentences);
  }

  /**
   * The script's runs through the plain-text path as PCM at the output rate (each run its
   * own cache entry), with breaks as silence and the request's sentence silence between
   * runs; words and marks placed in the whole audio and mapped back to the client's text.
   * `early` (a stream): a run is spoken window by window as SynthesizeStream speaks a text,
   * each mark inside it with the sentence of the word after it; otherwise each run comes whole.
   */
  private async *renderScript(
    request: SpeechRequest,
    script: Script,
    signal: AbortSignal,
    client: string,
    early: boolean,
  ): AsyncGenerator<ScriptPiece> {
    const { encodeRate } = script;
    const written = Array.from(request.ssml || request.text);
    let samples = 0;
    let sentences = 0;
    let afterRun = false;
    /** A run gave audio or a break its silence. */
    let spoke = false;
    let marks: string[] = [];
    for (const item of script.items) {
      if (item.kind === "mark") {
        marks.push(item.name);
        continue;
      }
      if (item.kind === "break") {
        // A mark before a break is where the break starts, not at the next word after it.
        const timepoints = marks.map((markName) => ({ markName, seconds: samples / encodeRate }));
        marks = [];
        const pcm = createSilence(item.seconds, encodeRate);
        yield { pcm, words: [], timepoints, firstSentence: sentences, sentenceCount: 0, cached: true };
        samples += pcm.length;
        afterRun = false;
        spoke = true;
        continue;
      }
      const run = this.runRequest(request, item, encodeRate);
      const silence = afterRun && request.sentenceSilence > 0 ? createSilence(request.sentenceSilence, encodeRate) : undefined;
      /** Where the run's audio starts, in seconds from the script's start. */
      const offset = (samples + (silence?.length ?? 0)) / encodeRate;
      /**
       * The run's words in the written text. Words spoken for one written span (an alias,
       * `<sub>`: "TTS" said as "text to speech") are that one written word, from the first's
       * start to the last's end.
       */
      const placed = (runWords: readonly WordTimestamp[]): WordTimestamp[] => {
        const words: WordTimestamp[] = [];
        for (const word of runWords) {
          const start = item.source.starts[word.textStart]!;
          const stop = item.source.ends[word.textEnd - 1]!;
          const sentenceIndex = sentences + word.sentenceIndex;
          const previous = words.at(-1);
          if (previous?.textStart === start && previous.textEnd === stop && previous.sentenceIndex === sentenceIndex) {
            previous.endSeconds = offset + word.endSeconds;
            continue;
          }
          words.push({
            word: written.slice(start, stop).join(""),
            textStart: start,
            textEnd: stop,
            startSeconds: offset + word.startSeconds,
            endSeconds: offset + word.endSeconds,
            sentenceIndex,
          });
        }
        return words;
      };
      /** The marks before the run, at its first word. */
      const leading = (first: WordTimestamp | undefined) =>
        marks.map((markName) => ({ markName, seconds: first ? offset + first.startSeconds : offset }));
      try {
        if (early) {
          let words: WordTimestamp[] = [];
          let timepoints: Timepoint[] | undefined;
          let before = silence;
          /** Marks inside the run not yet placed: each goes with the sentence of the next word after it. */
          const inner = [...item.marks];
          for await (const event of pcmEvents(this.streamText(run, signal, client))) {
            if (event.type === "words") {
              timepoints ??= leading(event.words[0]);
              const last = event.words.at(-1);
              while (last && inner.length > 0 && inner[0]!.offset <= last.textStart) {
                const { name, offset: at } = inner.shift()!;
                const next = event.words.find((word) => word.textStart >= at)!;
                timepoints.push({ markName: name, seconds: offset + next.startSeconds });
              }
              words.push(...placed(event.words));
            } else if (event.type === "audio") {
              const pcm = before ? concatSamples(before, event.pcm) : event.pcm;
              before = undefined;
              timepoints ??= leading(undefined);
              // Whether the run came from the cache is known at its end (below).
              yield { pcm, words, timepoints, firstSentence: sentences + event.sentenceIndex, sentenceCount: 1, cached: true };
              samples += pcm.length;
              spoke = true;
              words = [];
              timepoints = [];
            } else {
              sentences += Math.max(1, event.sentenceCount);
              if (!event.cached)
                yield { pcm: new Int16Array(0), words: [], timepoints: [], firstSentence: sentences, sentenceCount: 0, cached: false };
            }
          }
          // Marks after the run's last word are at the end of its audio.
          if (inner.length > 0) {
            const seconds = samples / encodeRate;
            const timepoints = inner.map(({ name }) => ({ markName: name, seconds }));
            yield {
              pcm: new Int16Array(0),
              words: [],
              timepoints,
              firstSentence: Math.max(0, sentences - 1),
              sentenceCount: 0,
              cached: true,
            };
          }
          marks = [];
          afterRun = true;
          continue;
        }
        const result = await this.synthesizeText(run, signal, client);
        const spoken = samplesOf(result.audio.bytes);
        const pcm = silence ? concatSamples(silence, spoken) : spoken;
        const runWords = result.audio.words ?? [];
        const wordAt = (from: number) => runWords.find((word) => word.textStart >= from);
        const end = offset + spoken.length / encodeRate;
        const timepoints = [
          ...leading(runWords[0]),
          ...item.marks.map(({ name, offset: at }) => {
            const next = wordAt(at);
            return { markName: name, seconds: next ? offset + next.startSeconds : end };
          }),
        ];
        marks = [];
        const sentenceCount = Math.max(1, result.audio.sentenceByteEnds?.length ?? 1);
        yield { pcm, words: placed(runWords), timepoints, firstSentence: sentences, sentenceCount, cached: result.cached };
        samples += pcm.length;
        sentences += sentenceCount;
        afterRun = true;
        spoke = true;
      } catch (error) {
        if (error instanceof NothingToSpeakError) continue;
        if (error instanceof NotFoundError && item.voice !== undefined)
          throw new NotFoundError("ssml", `<voice name=${JSON.stringify(item.voice)}>: ${error.problem}`);
        throw error;
      }
    }
    // Runs of only punctuation or symbols give no phonemes: such a document says nothing, as such a text does.
    if (!spoke && !script.silent) throw nothingToSpeak(request);
    if (marks.length > 0) {
      const seconds = samples / encodeRate;
      yield {
        pcm: new Int16Array(0),
        words: [],
        timepoints: marks.map((markName) => ({ markName, seconds })),
        firstSentence: sentences,
        sentenceCount: 0,
        cached: true,
      };
    }
  }

  /** A run of a script as a plain-text request: PCM at the script's rate, its prosody and voice applied. */
  private runRequest(request: SpeechRequest, item: ScriptRun, encodeRate: number): SpeechRequest {
    const { prosody } = item;
    return {
      ...request,
      text: item.text,
      ssml: "",
      voice: item.voice ?? (item.language ? this.voiceSpeaking(item.language, request) : request.voice),
      language: item.voice || item.language ? "" : request.language,
      speed: request.speed * prosody.rate,
      pitch: request.pitch * 2 ** (prosody.pitchSemitones / 12),
      volume: prosody.volumeDb <= SILENT_DB ? 0 : request.volume * 10 ** (prosody.volumeDb / 20),
      encoding: AudioEncoding.PCM,
      sampleRate: encodeRate,
      wordTimestamps: true,
      frameMs: 0,
    };
  }

  /** `<lang>`: the request's voice when it speaks the language, else an installed voice that does, else the request's. */
  private voiceSpeaking(language: string, request: SpeechRequest): string {
    const voices = this.options.catalog.list();
    const current = voices.find((voice) => voice.id === (request.voice || this.options.defaultVoice));
    if (current && matchesLanguage(current.config.language, language)) return current.id;
    return voices.find((voice) => matchesLanguage(voice.config.language, language))?.id ?? request.voice;
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
    for await (const piece of this.render(speech, plan, encoder, signal, false)) pieces.push(piece);
    return this.cachedAudio(speech, pieces, encoder.sampleRate, pieces.at(-1)!.durationSeconds!);
  }

  /**
   * Synthesizes and encodes window by window (a sentence at a time when its samples must all
   * be there first: Piper's peak normalization, pitch shifting); the last piece is the
   * encoder's final bytes. `early`: the caller sends each piece on as it comes.
   */
  private async *render(
    speech: ResolvedSpeech,
    plan: Plan,
    encoder: AudioEncoder,
    signal: AbortSignal,
    early: boolean,
  ): AsyncGenerator<RenderedPiece> {
    const { request, model, settings, encodeRate } = speech;
    const voiceRate = model.config.sampleRate;
    const resampler: Resampler | undefined = encodeRate === voiceRate ? undefined : await createResampler(voiceRate, encodeRate);
    const wholeSentences = request.peakNormalized || request.pitch !== 1;
    let samplesOut = 0;
    /** Samples at the voice's rate before the current window: where a sentence's words' times start. */
    let voiceSamples = 0;
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
      let windows: Float32Array[] = [];
      let parts: Uint8Array[] = [];
      let pieceStart: number | undefined;
      let words: WordTimestamp[] | undefined;
      let sentenceStart = true;
      let opensSentence = false;
      const stream = this.options.engine.synthesize(model, plan, settings, signal, early && !wholeSentences);
      for await (const { sentence, samples, last, idDurations } of stream) {
        pieceStart ??= samplesOut;
        if (sentenceStart) {
          sentenceStart = false;
          opensSentence = true;
          if (previousSentence >= 0 && sentence.sentenceIndex !== previousSentence && request.sentenceSilence > 0) {
            const silence = createSilence(request.sentenceSilence, voiceRate);
            parts.push(encode(silence));
            voiceSamples += silence.length;
          }
          words = idDurations && wordsOf(request.text, sentence, idDurations, voiceSamples, voiceRate);
        }
        windows.push(samples);
        if (wholeSentences && !last) continue;
        const joined = joinSamples(windows);
        windows = [];
        voiceSamples += joined.length;
        let pcm = floatToPcm16(joined, request.volume, request.peakNormalized);
        if (request.pitch !== 1) pcm = await shiftPitch(pcm, voiceRate, request.pitch);
        parts.push(encode(pcm));
        yield {
          sentenceIndex: sentence.sentenceIndex,
          bytes: concatBytes(parts),
          firstSample: pieceStart,
          sampleCount: samplesOut - pieceStart,
          opensSentence,
          ...(words && { words }),
        };
        parts = [];
        pieceStart = undefined;
        words = undefined;
        opensSentence = false;
        if (last) {
          previousSentence = lastSentence = sentence.sentenceIndex;
          sentencesDone += 1;
          sentenceStart = true;
        }
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
    yield {
      sentenceIndex: lastSentence,
      bytes: encoder.end(),
      firstSample: samplesOut,
      sampleCount: 0,
      opensSentence: false,
      durationSeconds: samplesOut / encodeRate,
    };
  }

  private cachedAudio(speech: ResolvedSpeech, pieces: RenderedPiece[], sampleRate: number, durationSeconds: number): CachedAudio {
    const sentenceByteEnds: number[] = [];
    const sentenceSampleStarts: number[] = [];
    const words: WordTimestamp[] = [];
    let end = 0;
    for (const piece of pieces) {
      end += piece.bytes.length;
      sentenceByteEnds[piece.sentenceIndex] = end;
      sentenceSampleStarts[piece.sentenceIndex] ??= piece.firstSample;
      if (piece.words) words.push(...piece.words);
    }
    // Words only when every sentence has them (a voice run whole gives no durations).
    const timed = pieces.every((piece) => !piece.opensSentence || piece.words);
    return {
      bytes: concatBytes(pieces.map((p) => p.bytes)),
      encoding: encodingName(speech.request.encoding),
      sampleRate,
      durationSeconds,
      modelUsed: speech.modelUsed,
      sentenceByteEnds,
      sentenceSampleStarts: Array.from(sentenceSampleStarts, (start) => start ?? 0),
      ...(timed && { words, wordsText: speech.request.text }),
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
        lengthScale: config.lengthScale,
        noiseW: request.noiseW ?? config.noiseW,
        durationScale: 1 / request.speed,
      },
    };
    const encodeRate = request.sampleRate || config.sampleRate;
    if ((encodeRate * request.frameMs) % 1000 !== 0) {
      throw new InvalidArgumentError(
        "config.frame_ms",
        `${request.frameMs} ms is not a whole number of samples at ${encodeRate} Hz; choose a multiple of ${1000 / gcd(encodeRate, 1000)} ms or another sample_rate`,
      );
    }
    const key = cacheKey({
      text: request.text,
      voice: model.id,
      speakerId,
      speed: request.speed,
      pitch: request.pitch,
      volume: request.volume,
      peakNormalized: request.peakNormalized,
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

/**
 * A stream of a PCM request (at its output rate, no frames) as samples: each sentence's
 * words (when asked for) before its audio, the audio as it is synthesized, and last how it
 * ended.
 */
async function* pcmEvents(events: AsyncIterable<StreamEvent>): AsyncGenerator<SegmentEvent> {
  // Chunks are cut by size, which may split a sample: an odd byte waits for the next chunk.
  let carry = new Uint8Array(0);
  for await (const event of events) {
    if (event.type === "timestamps") yield { type: "words", sentenceIndex: event.sentenceIndex, words: event.words };
    else if (event.type === "chunk") {
      const bytes = carry.length > 0 ? concatBytes([carry, event.bytes]) : event.bytes;
      const whole = bytes.length - (bytes.length % 2);
      carry = bytes.slice(whole);
      if (whole > 0) yield { type: "audio", sentenceIndex: event.sentenceIndex, pcm: samplesOf(bytes.subarray(0, whole)) };
    } else if (event.type === "summary") yield { type: "end", cached: event.cached, sentenceCount: event.sentenceCount };
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

  constructor(private readonly cutter: ChunkCutter) {}

  *split(piece: Omit<RenderedPiece, "opensSentence" | "words">): Generator<StreamEvent> {
    for (const chunk of this.cutter.cut(piece.bytes, piece.firstSample, piece.sampleCount, piece.durationSeconds !== undefined)) {
      this.bytes += chunk.bytes.length;
      yield { type: "chunk", ...chunk, sequence: this.sequence++, sentenceIndex: piece.sentenceIndex };
    }
  }

  /** A cached file, cut at its recorded sentence boundaries and then by size, each sentence after its words. */
  *replay(audio: CachedAudio, withWords: boolean): Generator<StreamEvent> {
    const ends = audio.sentenceByteEnds?.length ? audio.sentenceByteEnds : [audio.bytes.length];
    const starts = audio.sentenceSampleStarts ?? [];
    const totalSamples = Math.round(audio.durationSeconds * audio.sampleRate);
    let start = 0;
    for (const [sentenceIndex, end] of ends.entries()) {
      if (end === undefined || end <= start) continue;
      if (withWords) {
        const words = (audio.words ?? []).filter((word) => word.sentenceIndex === sentenceIndex);
        yield { type: "timestamps", sentenceIndex, words, timepoints: [] };
      }
      const firstSample = starts[sentenceIndex] ?? 0;
      const nextStart = starts.slice(sentenceIndex + 1).find((s) => s !== undefined) ?? totalSamples;
      yield* this.split({ sentenceIndex, bytes: audio.bytes.subarray(start, end), firstSample, sampleCount: nextStart - firstSample });
      start = end;
    }
    yield* this.split({
      sentenceIndex: ends.length - 1,
      bytes: audio.bytes.subarray(start),
      firstSample: totalSamples,
      sampleCount: 0,
      durationSeconds: audio.durationSeconds,
    });
  }

  summary(durationSeconds: number, generationTimeMs: number, cached: boolean, sentenceCount: number): StreamEvent {
    return { type: "summary", durationSeconds, generationTimeMs, cached, sentenceCount, chunkCount: this.sequence, audioBytes: this.bytes };
  }
}

/**
 * A stream's bytes cut into chunks of at most `chunkSize`, each with the sample it starts
 * at: exact where the bytes after a header are the samples (PCM, G.711), the piece's first
 * sample for a codec. With frames (`frameSamples` > 0, headerless encodings only) every chunk
 * holds whole frames: what does not fill one waits for the next piece, and the stream's last
 * frame is filled with silence.
 */
export class ChunkCutter {
  private readonly width: number | undefined;
  private readonly frameBytes: number;
  private held: Uint8Array = new Uint8Array(0);
  private sent = 0;

  constructor(
    private readonly chunkSize: number,
    private readonly encoding: OutputEncoding,
    frameSamples: number,
  ) {
    this.width = bytesPerSample(encoding);
    this.frameBytes = frameSamples * (this.width ?? 0);
  }

  *cut(bytes: Uint8Array, firstSample: number, sampleCount: number, last: boolean): Generator<{ bytes: Uint8Array; sampleOffset: number }> {
    if (this.frameBytes === 0) {
      const header = this.width === undefined ? 0 : Math.max(0, bytes.length - sampleCount * this.width);
      for (let offset = 0; offset < bytes.length; offset += this.chunkSize) {
        const sampleOffset = this.width === undefined ? firstSample : firstSample + Math.max(0, Math.floor((offset - header) / this.width));
        yield { bytes: bytes.subarray(offset, offset + this.chunkSize), sampleOffset };
      }
      return;
    }
    let pending = this.held.length ? concatBytes([this.held, bytes]) : bytes;
    if (last && pending.length % this.frameBytes !== 0)
      pending = concatBytes([pending, this.silence(this.frameBytes - (pending.length % this.frameBytes))]);
    const whole = pending.length - (pending.length % this.frameBytes);
    const size = Math.max(this.frameBytes, this.chunkSize - (this.chunkSize % this.frameBytes));
    for (let offset = 0; offset < whole; offset += size) {
      const chunk = pending.subarray(offset, Math.min(whole, offset + size));
      yield { bytes: chunk, sampleOffset: this.sent / this.width! };
      this.sent += chunk.length;
    }
    this.held = pending.slice(whole);
  }

  /** `length` bytes of encoded silence: zero samples in PCM, their G.711 code otherwise. */
  private silence(length: number): Uint8Array {
    const code = this.encoding === AudioEncoding.MULAW ? 0xff : this.encoding === AudioEncoding.ALAW ? 0xd5 : 0;
    return new Uint8Array(length).fill(code);
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * A sentence's words with their times: the engine's word intervals (samples at the voice's
 * rate from the sentence's start) placed after `before` samples, in seconds; pitch shifting
 * keeps durations and resampling keeps times, so seconds at the voice's rate are the output's.
 */
function wordsOf(
  text: string,
  sentence: PlannedSentence,
  idDurations: readonly number[],
  before: number,
  voiceRate: number,
): WordTimestamp[] {
  const characters = Array.from(text);
  return wordIntervals(sentence.words, idDurations).map((interval) => ({
    word: characters.slice(interval.textStart, interval.textEnd).join(""),
    textStart: interval.textStart,
    textEnd: interval.textEnd,
    startSeconds: (before + interval.startSample) / voiceRate,
    endSeconds: (before + interval.endSample) / voiceRate,
    sentenceIndex: sentence.sentenceIndex,
  }));
}

/** Whether a cached file's words index this very text. */
function hasWordsFor(audio: CachedAudio, text: string): boolean {
  return audio.words !== undefined && audio.wordsText === text;
}

/** An SSML document of a live utterance, parsed: the request that speaks it and its script. */
export interface LiveDocument {
  request: SpeechRequest;
  script: Script;
}

/** What a script is spoken with: its items and the request's voice's output rate and names. */
interface Script {
  items: ScriptItem[];
  encodeRate: number;
  voice: string;
  modelUsed: string;
  /** A live utterance's document, which may say nothing (its marks still count). */
  silent: boolean;
}

/** The request has nothing a voice can say, named by the field it came in. */
function nothingToSpeak(request: SpeechRequest): NothingToSpeakError {
  return request.ssml ? new NothingToSpeakError(request.ssml, "ssml") : new NothingToSpeakError(request.text);
}
