/**
 * StreamingSynthesize, apart from its transport: text arrives in pieces for utterances
 * named by context ids; each sentence is spoken as soon as its end is certain (or a timer
 * or flush says so), one utterance after another, and events come out in order: a start,
 * then per sentence its word timestamps and audio chunks, then an end per utterance.
 *
 * Each sentence goes through the unary path (cache first, then admission and engine) as raw
 * PCM at the output rate, so its audio is the audio Synthesize gives for that sentence and a
 * sentence spoken before is a cache hit; the utterance's own encoder then makes one file of
 * its sentences, with the request's sentence silence between them.
 *
 * An SSML document is one segment: parsed when it arrives (bad SSML ends only its utterance),
 * spoken as Synthesize speaks it, run by run, between the text before and after it.
 */
import { concatSamples, createEncoder, createSilence, type OutputEncoding } from "../audio/index.js";
import {
  AbortedError,
  InvalidArgumentError,
  NotFoundError,
  NothingToSpeakError,
  OverloadedError,
  type ServiceError,
  StreamTimeoutError,
} from "../errors/index.js";
import { Channel } from "./channel.js";
import { type RequestLimits, checkTextLength, type SpeechRequest } from "./request.js";
import { SentenceBuffer, type TextSegment } from "./sentence-buffer.js";
import { ReadAhead } from "./read-ahead.js";
import type { LiveDocument, SegmentEvent, SpeechSummary, Synthesizer, Timepoint, WordTimestamp } from "./synthesizer.js";

export interface LiveSettings {
  /** The validated config; its text is unused. */
  request: SpeechRequest;
  maxBufferDelayMs: number;
  maxBufferedCharacters: number;
}

export interface LiveLimits extends RequestLimits {
  idleTimeoutMs: number;
  maxDurationMs: number;
}

/** Input for an utterance; at most one of `text` and `ssml` (a whole document) is not empty. */
export type LiveInput =
  | { type: "text"; contextId: string; text: string; ssml: string; flush: boolean; end: boolean }
  | { type: "cancel"; contextId: string };

export type LiveEvent =
  | { type: "start"; encoding: OutputEncoding; sampleRate: number; voice: string; modelUsed: string }
  | { type: "timestamps"; contextId: string; sentenceIndex: number; words: WordTimestamp[]; timepoints: Timepoint[] }
  | { type: "chunk"; contextId: string; bytes: Uint8Array; sequence: number; sentenceIndex: number; sampleOffset: number }
  | { type: "end"; contextId: string; cancelled: boolean; summary: SpeechSummary; error?: ServiceError };

/** A segment's synthesis, read ahead of the speaker (it may begin before the segment is certain). */
type Spoken = ReadAhead<SegmentEvent> | AsyncGenerator<SegmentEvent>;

/**
 * What an utterance speaks next: a text segment (with its synthesis when that began ahead),
 * an SSML document (starting at `start` code points of the utterance's input), or a document
 * that did not parse, where the utterance ends.
 */
type LiveSegment =
  | (TextSegment & { kind: "text"; spoken?: ReadAhead<SegmentEvent> })
  | { kind: "document"; document: LiveDocument; start: number }
  | { kind: "invalid"; error: ServiceError };

/** Characters that may wait to be spoken in one stream, in MAX_TEXT_LENGTHs. */
const PENDING_TEXT_LENGTHS = 10;

class Utterance {
  readonly abort = new AbortController();
  readonly segments: LiveSegment[] = [];
  /** No more text comes: speak what is left, then end. */
  ended = false;
  cancelled = false;
  timer: NodeJS.Timeout | undefined;
  /** A probable sentence synthesized ahead while the next character is awaited. */
  speculation: { text: string; abort: AbortController; spoken: ReadAhead<SegmentEvent> } | undefined;
  readonly startedAt = performance.now();
  readonly summary: SpeechSummary = {
    durationSeconds: 0,
    generationTimeMs: 0,
    cached: true,
    sentenceCount: 0,
    chunkCount: 0,
    audioBytes: 0,
  };
  private wake: (() => void) | undefined;

  constructor(
    readonly contextId: string,
    readonly buffer: SentenceBuffer,
  ) {}

  add(segment: LiveSegment | undefined): void {
    if (segment) this.segments.push(segment);
    this.notify();
  }

  finish(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.notify();
  }

  cancel(): void {
    this.cancelled = true;
    this.segments.length = 0;
    clearTimeout(this.timer);
    this.abort.abort(new AbortedError("cancelled"));
    this.notify();
  }

  /** The next segment to speak; undefined once the utterance ended or was cancelled. */
  async next(): Promise<LiveSegment | undefined> {
    for (;;) {
      if (this.cancelled) return undefined;
      const segment = this.segments.shift();
      if (segment) return segment;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  get pendingCharacters(): number {
    return this.buffer.length + this.segments.reduce((n, s) => n + pendingLength(s), 0);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

export async function* liveSession(
  synthesizer: Synthesizer,
  settings: LiveSettings,
  input: AsyncIterable<LiveInput>,
  signal: AbortSignal,
  client: string,
  limits: LiveLimits,
): AsyncGenerator<LiveEvent> {
  const { request, maxBufferDelayMs, maxBufferedCharacters } = settings;
  const voice = await synthesizer.liveVoice(request);
  const events = new Channel<LiveEvent>();
  /** Utterances not yet over, in the order they are spoken. */
  const line: Utterance[] = [];
  /** Utterances that take text now, by context id. */
  const open = new Map<string, Utterance>();
  const seen = new Set<string>();
  let lineChanged: (() => void) | undefined;
  let inputOver = false;
  let speaking = false;
  let stopped = false;
  const fail = (error: unknown) => {
    if (stopped) return;
    stopped = true;
    for (const utterance of line) utterance.cancel();
    for (const utterance of open.values()) utterance.cancel();
    inputOver = true;
    lineUpdated();
    events.fail(error);
  };
  const onAbort = () => fail(AbortedError.of(signal));
  signal.addEventListener("abort", onAbort, { once: true });
  const idle = new Timer(limits.idleTimeoutMs, () => {
    if (line.some((u) => u.segments.length > 0 || !u.buffer.empty) || speaking) return idle.restart();
    fail(
      new StreamTimeoutError(
        `no input for ${limits.idleTimeoutMs / 1000} s (STREAMING_IDLE_TIMEOUT_SECONDS); send empty text to keep a stream open`,
      ),
    );
  });
  const lifetime = new Timer(limits.maxDurationMs, () =>
    fail(
      new StreamTimeoutError(`the stream is older than ${limits.maxDurationMs / 1000} s (STREAMING_MAX_DURATION_SECONDS); open a new one`),
    ),
  );

  function lineUpdated() {
    const wake = lineChanged;
    lineChanged = undefined;
    wake?.();
  }
  const endUtterance = (utterance: Utterance) => {
    open.delete(utterance.contextId);
    take(utterance, [utterance.buffer.takeAll()]);
    dropSpeculation(utterance);
    utterance.finish();
  };
  /**
   * A sentence that ends the buffer is probably whole: it is synthesized ahead, so that once
   * the next character makes its end certain (or the wait runs out) the speaker takes that
   * synthesis instead of starting one; if the text goes on instead, it is stopped.
   */
  const speculate = (utterance: Utterance, text: string) => {
    if (utterance.speculation?.text === text.trim()) return;
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, utterance.abort.signal]);
    const spoken = new ReadAhead(synthesizer.speakSegment(request, voice, text, signal, client), () => {});
    // Trimmed: the segment that speaks it may end with the spaces that came after it.
    utterance.speculation = { text: text.trim(), abort, spoken };
  };
  /** Stops a speculation that is no longer the buffer's sentence. */
  const dropSpeculation = (utterance: Utterance) => {
    utterance.speculation?.abort.abort();
    utterance.speculation?.spoken.stop();
    utterance.speculation = undefined;
  };
  const take = (utterance: Utterance, segments: readonly (TextSegment | undefined)[]) => {
    const speculation = utterance.speculation;
    for (const segment of segments) {
      if (segment && speculation && segment.text.trim() === speculation.text) {
        utterance.speculation = undefined;
        utterance.add({ kind: "text", ...segment, spoken: speculation.spoken });
      } else utterance.add(segment && { kind: "text", ...segment });
    }
  };
  const scheduleFlush = (utterance: Utterance) => {
    clearTimeout(utterance.timer);
    const probable = !utterance.buffer.empty && utterance.buffer.endsWithProbableSentence();
    if (utterance.speculation && (!probable || utterance.speculation.text !== utterance.buffer.peek().trim())) dropSpeculation(utterance);
    if (utterance.buffer.empty) return;
    if (probable) speculate(utterance, utterance.buffer.peek());
    const wait = probable ? Math.max(20, maxBufferDelayMs / 10) : maxBufferDelayMs;
    utterance.timer = setTimeout(() => take(utterance, [utterance.buffer.takeAll()]), wait);
  };

  /**
   * A document is a unit: what is buffered before it is spoken first. One that does not
   * parse ends its utterance there (false); text after it for the context starts another.
   */
  const addDocument = async (utterance: Utterance, ssml: string): Promise<boolean> => {
    clearTimeout(utterance.timer);
    take(utterance, [utterance.buffer.takeAll()]);
    dropSpeculation(utterance);
    const start = utterance.buffer.skip(ssml);
    let document: LiveDocument;
    try {
      document = await synthesizer.liveDocument(request, ssml);
    } catch (error) {
      const invalid = documentError(error);
      if (!invalid) throw error;
      open.delete(utterance.contextId);
      utterance.add({ kind: "invalid", error: invalid });
      utterance.finish();
      return false;
    }
    utterance.add({ kind: "document", document, start });
    return true;
  };

  const readInput = async () => {
    for await (const message of input) {
      if (stopped) return;
      idle.restart();
      if (message.type === "cancel") {
        if (!seen.has(message.contextId)) {
          throw new InvalidArgumentError(
            "cancel.context_id",
            `${JSON.stringify(message.contextId)} names no utterance of this stream; cancel one that text was sent for`,
          );
        }
        for (const utterance of line.filter((u) => u.contextId === message.contextId && !u.cancelled)) {
          open.delete(utterance.contextId);
          utterance.cancel();
          // The acknowledgement: no audio of the utterance follows it.
          events.push({ type: "end", contextId: utterance.contextId, cancelled: true, summary: summarize(utterance) });
        }
        continue;
      }
      checkTextLength("input.text", message.text, limits);
      checkTextLength("input.ssml", message.ssml, limits);
      if (message.text !== "" && message.ssml !== "") throw new InvalidArgumentError("input.ssml", "set text or ssml, not both");
      let utterance = open.get(message.contextId);
      if (!utterance) {
        utterance = new Utterance(message.contextId, new SentenceBuffer((text) => synthesizer.clauses(voice, text)));
        open.set(message.contextId, utterance);
        seen.add(message.contextId);
        line.push(utterance);
        lineUpdated();
      }
      if (message.ssml !== "") {
        if (!(await addDocument(utterance, message.ssml))) continue;
      } else utterance.buffer.append(message.text);
      const pending = line.reduce((n, u) => n + u.pendingCharacters, 0);
      const maxPending = PENDING_TEXT_LENGTHS * limits.maxTextLength;
      if (pending > maxPending) {
        throw new OverloadedError(
          `input.text: ${pending} characters are waiting to be spoken; at most ${maxPending} may wait (${PENDING_TEXT_LENGTHS} x MAX_TEXT_LENGTH); send text as it is spoken`,
          undefined,
        );
      }
      const taken: (TextSegment | undefined)[] = utterance.buffer.takeCertain();
      while (utterance.buffer.length > maxBufferedCharacters) taken.push(utterance.buffer.takeAtMost(maxBufferedCharacters));
      if (message.end || message.flush) taken.push(utterance.buffer.takeAll());
      take(utterance, taken);
      if (message.end) endUtterance(utterance);
      else if (message.flush) dropSpeculation(utterance);
      else scheduleFlush(utterance);
    }
    // Half-close: every open utterance is spoken to its end.
    for (const utterance of [...open.values()]) endUtterance(utterance);
  };

  const speakAll = async () => {
    for (;;) {
      while (line.length === 0 && !inputOver) {
        await new Promise<void>((resolve) => {
          lineChanged = resolve;
        });
      }
      const utterance = line[0];
      if (!utterance) return;
      if (!utterance.cancelled) {
        speaking = true;
        await speak(utterance);
        speaking = false;
      }
      line.shift();
    }
  };

  const speak = async (utterance: Utterance) => {
    const encoder = await createEncoder(request.encoding, voice.encodeRate, { streaming: true });
    let samples = 0;
    let sequence = 0;
    let sentenceIndex = 0;
    let finished = false;
    const cutter = synthesizer.chunkCutter(request, voice.encodeRate);
    const send = (bytes: Uint8Array, firstSample: number, sampleCount: number, last = false) => {
      for (const chunk of cutter.cut(bytes, firstSample, sampleCount, last)) {
        if (utterance.cancelled) return;
        utterance.summary.chunkCount++;
        utterance.summary.audioBytes += chunk.bytes.length;
        events.push({ type: "chunk", contextId: utterance.contextId, sequence: sequence++, sentenceIndex, ...chunk });
      }
    };
    /** The request's sentence silence, between what was spoken and the next segment. */
    const silenceBefore = () =>
      sentenceIndex > 0 && request.sentenceSilence > 0 ? createSilence(request.sentenceSilence, voice.encodeRate) : undefined;
    /** Words (offsets in a segment starting `start` code points into the input) placed in the utterance. */
    const place = (words: readonly WordTimestamp[], start: number, offsetSeconds: number, firstSentence: number) =>
      words.map((word) => ({
        ...word,
        textStart: word.textStart + start,
        textEnd: word.textEnd + start,
        startSeconds: word.startSeconds + offsetSeconds,
        endSeconds: word.endSeconds + offsetSeconds,
        sentenceIndex: firstSentence + word.sentenceIndex,
      }));

    /** A text segment's audio as it is synthesized, each sentence's words placed in the utterance before it. */
    const speakText = async (segment: Extract<LiveSegment, { kind: "text" }>) => {
      const synthesis = () => synthesizer.speakSegment(request, voice, segment.text, utterance.abort.signal, client);
      let spoken: Spoken = segment.spoken ?? synthesis();
      const firstSentence = sentenceIndex;
      const silence = silenceBefore();
      /** Where the segment's audio starts in the utterance, once its silence is sent. */
      let offsetSeconds: number | undefined;
      const begin = (): number => {
        if (offsetSeconds !== undefined) return offsetSeconds;
        if (silence) {
          send(encoder.write(silence), samples, silence.length);
          samples += silence.length;
        }
        offsetSeconds = samples / voice.encodeRate;
        return offsetSeconds;
      };
      const speak = (event: SegmentEvent): void => {
        if (event.type === "words") {
          events.push({
            type: "timestamps",
            contextId: utterance.contextId,
            sentenceIndex: firstSentence + event.sentenceIndex,
            words: place(event.words, segment.start, begin(), firstSentence),
            timepoints: [],
          });
        } else if (event.type === "audio") {
          begin();
          sentenceIndex = firstSentence + event.sentenceIndex;
          send(encoder.write(event.pcm), samples, event.pcm.length);
          samples += event.pcm.length;
        } else {
          utterance.summary.cached &&= event.cached;
          sentenceIndex = firstSentence + Math.max(1, event.sentenceCount);
        }
      };
      let heard = false;
      try {
        for (;;) {
          try {
            for await (const event of spoken) {
              heard = true;
              if (utterance.cancelled) return;
              speak(event);
            }
            return;
          } catch (error) {
            // A synthesis begun ahead, while the sentence before held the last slot, was refused
            // room then; now that the sentence's turn has come it asks again.
            if (!(error instanceof OverloadedError) || heard || spoken !== segment.spoken) throw error;
            spoken = synthesis();
          }
        }
      } finally {
        if (spoken instanceof ReadAhead) spoken.stop();
      }
    };

    /** A document's pieces as they are synthesized, its words and marks placed in the utterance. */
    const speakDocument = async (segment: Extract<LiveSegment, { kind: "document" }>) => {
      let silence = silenceBefore();
      const offsetSeconds = (samples + (silence?.length ?? 0)) / voice.encodeRate;
      const firstSentence = sentenceIndex;
      let sentences = 0;
      for await (const piece of synthesizer.speakDocument(segment.document, utterance.abort.signal, client)) {
        if (utterance.cancelled) return;
        sentenceIndex = firstSentence + piece.firstSentence;
        for (let i = 0; i < Math.max(1, piece.sentenceCount); i++) {
          const words = request.wordTimestamps ? piece.words.filter((word) => word.sentenceIndex === piece.firstSentence + i) : [];
          const timepoints = i === 0 ? piece.timepoints.map((point) => ({ ...point, seconds: point.seconds + offsetSeconds })) : [];
          if (words.length === 0 && timepoints.length === 0) continue;
          events.push({
            type: "timestamps",
            contextId: utterance.contextId,
            sentenceIndex: sentenceIndex + i,
            words: place(words, segment.start, offsetSeconds, firstSentence),
            timepoints,
          });
        }
        const pcm = silence ? concatSamples(silence, piece.pcm) : piece.pcm;
        silence = undefined;
        send(encoder.write(pcm), samples, pcm.length);
        samples += pcm.length;
        utterance.summary.cached &&= piece.cached;
        sentences = piece.firstSentence + piece.sentenceCount;
      }
      sentenceIndex = firstSentence + sentences;
    };

    /** The utterance ends here with an error; the stream goes on. */
    const endWithError = (error: ServiceError) => {
      if (open.get(utterance.contextId) === utterance) open.delete(utterance.contextId);
      utterance.cancel();
      events.push({ type: "end", contextId: utterance.contextId, cancelled: false, summary: summarize(utterance), error });
    };

    try {
      for (let segment = await utterance.next(); segment; segment = await utterance.next()) {
        if (segment.kind === "invalid") return endWithError(segment.error);
        try {
          if (segment.kind === "document") await speakDocument(segment);
          else await speakText(segment);
        } catch (error) {
          if (error instanceof NothingToSpeakError) continue; // punctuation or a quote alone
          // The server is full, or a document names what is not here (a <voice>).
          const ending = error instanceof OverloadedError ? error : segment.kind === "document" ? documentError(error) : undefined;
          if (ending && !utterance.cancelled) return endWithError(ending);
          throw error;
        }
        if (utterance.cancelled) break;
      }
      if (utterance.cancelled) return;
      finished = true;
      send(encoder.end(), samples, 0, true);
      utterance.summary.sentenceCount = sentenceIndex;
      utterance.summary.durationSeconds = samples / voice.encodeRate;
      events.push({ type: "end", contextId: utterance.contextId, cancelled: false, summary: summarize(utterance) });
    } catch (error) {
      if (!utterance.cancelled) throw error;
    } finally {
      if (!finished) encoder.end(); // codecs hold native state until end()
    }
  };

  const summarize = (utterance: Utterance): SpeechSummary => ({
    ...utterance.summary,
    cached: utterance.summary.cached && utterance.summary.chunkCount > 0,
    generationTimeMs: performance.now() - utterance.startedAt,
  });

  events.push({ type: "start", encoding: request.encoding, sampleRate: voice.encodeRate, voice: voice.id, modelUsed: voice.modelUsed });
  const reading = readInput().then(() => {
    inputOver = true;
    lineUpdated();
  }, fail);
  const speakingDone = speakAll().then(() => events.close(), fail);
  try {
    yield* events;
  } finally {
    fail(new AbortedError("cancelled"));
    idle.stop();
    lifetime.stop();
    signal.removeEventListener("abort", onAbort);
    // The input may never end (a transport's reader), so only the speaker is awaited: its
    // encoder holds native state until it ends.
    void reading;
    await speakingDone;
  }
}

/** Characters a segment holds, toward the stream's limit of text waiting to be spoken. */
function pendingLength(segment: LiveSegment): number {
  if (segment.kind === "text") return segment.text.length;
  return segment.kind === "document" ? segment.document.request.ssml.length : 0;
}

/** An error in a document's own content, named as the stream's field; undefined for any other. */
function documentError(error: unknown): ServiceError | undefined {
  if (error instanceof InvalidArgumentError && error.field === "ssml") return new InvalidArgumentError("input.ssml", error.problem);
  if (error instanceof NotFoundError && error.field === "ssml") return new NotFoundError("input.ssml", error.problem);
  return undefined;
}

/** A timeout that can be pushed back. */
class Timer {
  private readonly timer: NodeJS.Timeout;

  constructor(ms: number, onExpiry: () => void) {
    this.timer = setTimeout(onExpiry, ms);
  }

  restart(): void {
    this.timer.refresh();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
