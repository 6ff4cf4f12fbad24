/**
 * Live speech: one session object over StreamingSynthesize for both clients. Text goes in as
 * it is written (a token, a word, half a word), typed events come out: audio per sentence,
 * the sentence's word timestamps, and the end of each utterance. The Node client carries it
 * over the bidi RPC (HTTP/2), the browser client over the WebSocket route (GET /v1/stream);
 * the session only sees a channel of messages.
 *
 *   const live = tts.liveSession({ config: { encoding: AudioEncoding.PCM, enableWordTimestamps: true } });
 *   live.send("Hello the");        // from the language model, as it comes
 *   live.send("re. How are you?");
 *   live.close();                  // no more text: the iteration ends after the last utterance
 *   for await (const event of live) if (event.type === "audio") play(event.audio);
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import {
  type AudioEncoding,
  type StreamingSynthesizeRequest,
  StreamingSynthesizeRequestSchema,
  type StreamingSynthesizeResponse,
  type SynthesisConfigSchema,
} from "../../../gen/aetheros/tts/v1/tts_pb.js";

export type SynthesisConfigInit = MessageInitShape<typeof SynthesisConfigSchema>;

export interface LiveSessionOptions {
  /** Voice, encoding, speed, word timestamps, …: Synthesize's settings, for every utterance of the session. */
  config?: SynthesisConfigInit;
  /** How long text without a certain sentence end waits for more before it is spoken (20 to 10000 ms; the server's default when unset). */
  maxBufferDelayMs?: number;
  /** Most characters waiting without a sentence end before they are spoken (the server's default when unset). */
  maxBufferedCharacters?: number;
  /** Ends the session at once (its syntheses stop); the iteration then fails with CANCELED. */
  signal?: AbortSignal;
}

/** The stream's audio format, sent once before any audio. */
export interface LiveStart {
  type: "start";
  encoding: AudioEncoding;
  sampleRate: number;
  voice: string;
  /** Engine and voice, for example "piper:en_US-joe-medium". */
  modelUsed: string;
}

/** A piece of an utterance's audio; an utterance's pieces, concatenated, make one file in the encoding. */
export interface LiveAudio {
  type: "audio";
  contextId: string;
  /** Sentence of the utterance the audio belongs to, from 0. */
  sentenceIndex: number;
  /** Where the chunk's first sample is in the utterance's audio, in samples at the stream's rate (exact for PCM, WAV and G.711). */
  sampleOffset: number;
  /** Position of the chunk in the utterance, from 0. */
  sequence: number;
  audio: Uint8Array;
}

/** One spoken word: where it is in the utterance's text and when it is heard in the utterance's audio. */
export interface LiveWord {
  /** The word as written. */
  word: string;
  /** Span in all the text sent for the utterance (SSML documents included, as sent), in code points (indices of `Array.from(text)`). */
  textStart: number;
  textEnd: number;
  /** Seconds from the start of the utterance's audio. */
  startSeconds: number;
  endSeconds: number;
  sentenceIndex: number;
}

/** Where an SSML `<mark>` falls: the start of the next word spoken in its document, in seconds from the start of the utterance's audio. */
export interface LiveTimepoint {
  markName: string;
  seconds: number;
}

/**
 * The words of one sentence, sent before its first audio when `config.enableWordTimestamps` is
 * set, and the marks of an SSML document that fall in it or just before it (sent even without words).
 */
export interface LiveWords {
  type: "words";
  contextId: string;
  sentenceIndex: number;
  words: LiveWord[];
  timepoints: LiveTimepoint[];
}

/** An utterance is over: spoken to its end, or cancelled (its audio may stop mid-sentence). Nothing of it follows. */
export interface LiveUtteranceEnd {
  type: "utteranceEnd";
  contextId: string;
  cancelled: boolean;
  /** Length of the audio sent for it, in seconds. */
  durationSeconds: number;
  sentenceCount: number;
  chunkCount: number;
  audioBytes: number;
  /**
   * Set when the utterance ended early: the server had no room for one of its sentences
   * ("RESOURCE_EXHAUSTED"), or an SSML document sent to it is not valid ("INVALID_ARGUMENT", with
   * its line and column). The rest was not spoken; the session goes on.
   */
  error?: { code: string; message: string };
}

export type LiveEvent = LiveStart | LiveAudio | LiveWords | LiveUtteranceEnd;

/**
 * A live speech session. Utterances are named by a context id (the empty string unless given);
 * text for a new id starts an utterance spoken after the ones before it. A method without a
 * context id acts on the last one text was sent for. Iterate the session (once) to run it and
 * read its events; the iteration ends after `close()` once every utterance has ended, and
 * fails with the server's status (a ConnectError) when the session fails.
 */
export interface LiveSession extends AsyncIterable<LiveEvent> {
  /** Adds text to an utterance, spoken once its sentence's end is certain. */
  send(text: string, options?: { contextId?: string }): void;
  /**
   * Adds a whole SSML document (`<speak>…</speak>`) to an utterance: what was sent before it is
   * spoken first, then the document as Synthesize speaks it, its marks as `timepoints`.
   */
  sendSsml(ssml: string, options?: { contextId?: string }): void;
  /** Speaks what the utterance has buffered now, even mid-sentence. */
  flush(contextId?: string): void;
  /** No more text for the utterance: the rest is spoken, then its `utteranceEnd` comes. */
  end(contextId?: string): void;
  /**
   * Stops the utterance now (a user's interruption): its buffered text is dropped and its audio
   * stops after an `utteranceEnd` with `cancelled`. Also after `close()`, while the last
   * utterances are still spoken.
   */
  cancel(contextId?: string): void;
  /** No more text at all: every open utterance is ended and spoken; the iteration ends after the last `utteranceEnd`. */
  close(): void;
}

/** How a session reaches the server: requests out, responses in. */
export interface LiveChannel {
  send(request: StreamingSynthesizeRequest): void;
  /** No more requests; called once every utterance has ended after `close()`. */
  finish(): void;
  readonly responses: AsyncIterable<StreamingSynthesizeResponse>;
}

type RequestInit = MessageInitShape<typeof StreamingSynthesizeRequestSchema>;

/** The session over a channel; `open` receives the config message and returns the channel. */
export function liveSessionOver(options: LiveSessionOptions, open: (config: StreamingSynthesizeRequest) => LiveChannel): LiveSession {
  const channel = open(
    create(StreamingSynthesizeRequestSchema, {
      request: {
        case: "config",
        value: {
          config: options.config ?? {},
          ...(options.maxBufferDelayMs === undefined ? {} : { maxBufferDelayMs: options.maxBufferDelayMs }),
          ...(options.maxBufferedCharacters === undefined ? {} : { maxBufferedCharacters: options.maxBufferedCharacters }),
        },
      },
    }),
  );
  // The client's view of the server's utterances: those open to text (sent for, not ended or
  // cancelled), and per context id how many utteranceEnds are still to come (text after an end
  // or a cancel opens a new utterance under the same id).
  const openContexts = new Set<string>();
  const endsToCome = new Map<string, number>();
  let currentContext = "";
  let closing = false;
  let finished = false;
  let iterated = false;

  const finishWhenDone = () => {
    if (closing && endsToCome.size === 0 && !finished) {
      finished = true;
      channel.finish();
    }
  };
  const request = (init: RequestInit) => {
    if (closing) throw new Error("the live session is closed: no more text can be sent");
    channel.send(create(StreamingSynthesizeRequestSchema, init));
  };
  const input = (contextId: string, fields: { text?: string; ssml?: string; flush?: boolean; endUtterance?: boolean }) => {
    request({ request: { case: "input", value: { contextId, ...fields } } });
    currentContext = contextId;
    if (!openContexts.has(contextId)) endsToCome.set(contextId, (endsToCome.get(contextId) ?? 0) + 1);
    if (fields.endUtterance) openContexts.delete(contextId);
    else openContexts.add(contextId);
  };

  return {
    send: (text, sendOptions) => input(sendOptions?.contextId ?? currentContext, { text }),
    sendSsml: (ssml, sendOptions) => input(sendOptions?.contextId ?? currentContext, { ssml }),
    flush: (contextId = currentContext) => input(contextId, { flush: true }),
    end: (contextId = currentContext) => input(contextId, { endUtterance: true }),
    cancel(contextId = currentContext) {
      // Also after close(), while the last utterances are spoken (a barge-in); once all have ended there is nothing to stop.
      if (finished) return;
      channel.send(create(StreamingSynthesizeRequestSchema, { request: { case: "cancel", value: { contextId } } }));
      openContexts.delete(contextId);
    },
    close() {
      if (closing) return;
      for (const contextId of [...openContexts]) input(contextId, { endUtterance: true });
      closing = true;
      finishWhenDone();
    },
    async *[Symbol.asyncIterator]() {
      if (iterated) throw new Error("a live session's events can be read once");
      iterated = true;
      for await (const response of channel.responses) {
        const event = eventOf(response);
        if (event === undefined) continue;
        yield event;
        if (event.type === "utteranceEnd") {
          // An utterance the server ended (an error) is not open: close() has no end to send for it.
          if (event.error) openContexts.delete(event.contextId);
          const left = (endsToCome.get(event.contextId) ?? 1) - 1;
          if (left > 0) endsToCome.set(event.contextId, left);
          else endsToCome.delete(event.contextId);
          finishWhenDone();
        }
      }
    },
  };
}

/** The typed event of a response; undefined for an event this client does not know (a newer server's). */
function eventOf({ event }: StreamingSynthesizeResponse): LiveEvent | undefined {
  switch (event.case) {
    case "start": {
      const { encoding, sampleRate, voice, modelUsed } = event.value;
      return { type: "start", encoding, sampleRate, voice, modelUsed };
    }
    case "chunk": {
      const { contextId, sentenceIndex, sampleOffset, sequence, audio } = event.value;
      return { type: "audio", contextId, sentenceIndex, sampleOffset: Number(sampleOffset), sequence, audio };
    }
    case "timestamps": {
      const { contextId, sentenceIndex, words, timepoints } = event.value;
      return {
        type: "words",
        contextId,
        sentenceIndex,
        words: words.map(({ word, textStart, textEnd, startSeconds, endSeconds, sentenceIndex }) => ({
          word,
          textStart,
          textEnd,
          startSeconds,
          endSeconds,
          sentenceIndex,
        })),
        timepoints: timepoints.map(({ markName, seconds }) => ({ markName, seconds })),
      };
    }
    case "utteranceEnd": {
      const { contextId, cancelled, summary, error } = event.value;
      return {
        type: "utteranceEnd",
        contextId,
        cancelled,
        durationSeconds: summary?.durationSeconds ?? 0,
        sentenceCount: summary?.sentenceCount ?? 0,
        chunkCount: summary?.chunkCount ?? 0,
        audioBytes: Number(summary?.audioBytes ?? 0),
        ...(error && { error: { code: error.code, message: error.message } }),
      };
    }
    default:
      return undefined;
  }
}
