/// <reference lib="dom" />
// The browser page at GET / (bundled by ./serve.ts): lists the installed voices and
// speaks text through SynthesizeStream with the project's browser client, playing each
// chunk as it arrives. PCM and WAV are scheduled chunk by chunk into Web Audio at the
// stream's sample rate; MP3, Ogg Opus and FLAC are decoded by the browser once complete.
// What the page did is kept in window.ttsPage (and shown under the form) so that people
// and tests can see it. Live mode speaks what is typed as it is typed: each input event's
// new characters go to a live session (StreamingSynthesize over the WebSocket route), its PCM
// is scheduled as it comes, and the word being heard is highlighted from the timestamps.

import { AudioEncoding, createTtsWebClient, type LiveSession, type LiveWord, type StreamSummary } from "../../../clients/node/src/web.js";
// The encodings table alone, not src/audio's index: the rest of that folder is Node-only codecs.
import { contentTypeOf, encodingNamed, extensionOf, type OutputEncoding } from "../../audio/encodings.js";

/** Audio scheduled this far ahead of "now" when a chunk starts (or restarts) playback. */
const LEAD_SECONDS = 0.05;

export interface PageState {
  /** requesting → streaming → playing (stream over, audio still sounding) → done; or error, stopped. */
  state: "idle" | "requesting" | "streaming" | "playing" | "done" | "stopped" | "error";
  /** Speak presses so far; each resets the figures below. */
  runs: number;
  /** Voice ids in the list, as ListVoices returned them. */
  voices: string[];
  chunksReceived: number;
  /** When each chunk arrived, in milliseconds from pressing Speak. */
  chunkArrivalsMs: number[];
  bytesReceived: number;
  /** Samples handed to AudioBufferSourceNodes, at `sampleRate`. */
  samplesScheduled: number;
  /** Samples of the sources that played to their end. */
  samplesPlayed: number;
  /** Chunks that arrived after the audio before them had finished (a gap in playback). */
  underruns: number;
  /** The stream's rate (StreamStart); for decoded formats, the AudioContext's. */
  sampleRate: number;
  /** From pressing Speak to the first samples scheduled, in milliseconds. */
  firstAudioMs: number | undefined;
  summary:
    | { durationSeconds: number; generationTimeMs: number; cached: boolean; sentenceCount: number; chunkCount: number; audioBytes: number }
    | undefined;
  error: string | undefined;
  /** Live mode: what was sent, what came back, each word highlighted (in order), and whether the session is over. */
  live: { sent: string; chunks: number; samples: number; words: number; highlighted: string[]; ended: boolean };
}

declare global {
  interface Window {
    ttsPage: PageState;
  }
}

type RunFigures = Omit<PageState, "state" | "runs" | "voices" | "live">;

/** The figures of a Speak press before anything has happened. */
const freshRunFigures = (): RunFigures => ({
  chunksReceived: 0,
  chunkArrivalsMs: [],
  bytesReceived: 0,
  samplesScheduled: 0,
  samplesPlayed: 0,
  underruns: 0,
  sampleRate: 0,
  firstAudioMs: undefined,
  summary: undefined,
  error: undefined,
});

const page: PageState = (window.ttsPage = {
  state: "idle",
  runs: 0,
  voices: [],
  ...freshRunFigures(),
  live: { sent: "", chunks: 0, samples: 0, words: 0, highlighted: [], ended: false },
});

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
};
const form = element<HTMLFormElement>("form");
const textInput = element<HTMLTextAreaElement>("text");
const voiceSelect = element<HTMLSelectElement>("voice");
const formatSelect = element<HTMLSelectElement>("format");
const protocolSelect = element<HTMLSelectElement>("protocol");
const speedInput = element<HTMLInputElement>("speed");
const speedValue = element("speed-value");
const apiKeyInput = element<HTMLInputElement>("api-key");
const speakButton = element<HTMLButtonElement>("speak");
const stopButton = element<HTMLButtonElement>("stop");
const download = element<HTMLAnchorElement>("download");
const statusLine = element("status");
const ssmlCheckbox = element<HTMLInputElement>("ssml");
const liveCheckbox = element<HTMLInputElement>("live");
const liveText = element("live-text");

function client() {
  const apiKey = apiKeyInput.value.trim();
  return createTtsWebClient({
    baseUrl: window.location.origin,
    protocol: protocolSelect.value === "grpc-web" ? "grpc-web" : "connect",
    apiKey: apiKey === "" ? undefined : apiKey,
  });
}

/** A ConnectError's message is "[code] the server's message". */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function setStatus(state: PageState["state"], text: string): void {
  page.state = state;
  statusLine.dataset.state = state;
  statusLine.textContent = text;
}

function showStats(): void {
  element("stat-first-audio").textContent = page.firstAudioMs === undefined ? "–" : `${Math.round(page.firstAudioMs)} ms`;
  element("stat-chunks").textContent = page.summary ? `${page.chunksReceived} of ${page.summary.chunkCount}` : String(page.chunksReceived);
  element("stat-samples").textContent = page.samplesScheduled.toLocaleString("en-US");
  element("stat-duration").textContent =
    page.sampleRate > 0 ? `${(page.samplesScheduled / page.sampleRate).toFixed(2)} s at ${page.sampleRate} Hz` : "–";
}

// --- Voices -------------------------------------------------------------------------

async function loadVoices(): Promise<void> {
  setStatus("idle", "Loading voices…");
  try {
    const { voices, defaultVoice } = await client().listVoices({});
    page.voices = voices.map((voice) => voice.id);
    voiceSelect.replaceChildren(
      ...voices.map((voice) => {
        const option = new Option(`${voice.displayName} · ${voice.quality}`, voice.id);
        option.selected = voice.id === defaultVoice;
        return option;
      }),
    );
    setStatus(
      "idle",
      voices.length === 0
        ? "No voices are installed on this server."
        : `${voices.length} voice${voices.length === 1 ? "" : "s"} installed.`,
    );
  } catch (error) {
    page.voices = [];
    page.error = describe(error);
    voiceSelect.replaceChildren(new Option("(server default)", ""));
    setStatus("error", `Could not list voices: ${page.error}`);
  }
}

// --- Playback -----------------------------------------------------------------------

let audioContext: AudioContext | undefined;

/** Removes the WAV header from the front of a stream: what follows "data" is s16le. */
class WavHeaderStripper {
  private head = new Uint8Array(0);
  private passed = false;

  push(bytes: Uint8Array): Uint8Array {
    if (this.passed) return bytes;
    const head = new Uint8Array(this.head.length + bytes.length);
    head.set(this.head);
    head.set(bytes, this.head.length);
    this.head = head;
    const view = new DataView(head.buffer);
    const ascii = (at: number) => String.fromCharCode(...head.subarray(at, at + 4));
    if (head.length < 12) return new Uint8Array(0);
    if (ascii(0) !== "RIFF" || ascii(8) !== "WAVE") throw new Error("the stream is not a WAV file");
    for (let at = 12; at + 8 <= head.length; ) {
      const size = view.getUint32(at + 4, true);
      if (ascii(at) === "data") {
        this.passed = true;
        return head.subarray(at + 8);
      }
      if (ascii(at) === "fmt " && at + 24 <= head.length) {
        if (view.getUint16(at + 8, true) !== 1 || view.getUint16(at + 10, true) !== 1 || view.getUint16(at + 22, true) !== 16) {
          throw new Error("the WAV stream is not mono 16-bit PCM");
        }
      }
      at += 8 + size + (size & 1);
    }
    return new Uint8Array(0);
  }
}

/** Plays audio buffers back to back on one AudioContext; s16le PCM chunk by chunk. */
class AudioQueue {
  private nextStart = 0;
  /** When the last buffer scheduled starts, in the AudioContext's time. */
  lastStart = 0;
  private carry: number | undefined;
  private readonly sounding = new Set<AudioBufferSourceNode>();
  private finished: (() => void) | undefined;

  constructor(
    private readonly context: AudioContext,
    private readonly sampleRate: number,
  ) {}

  /** Schedules the samples in `bytes` (an odd byte waits for the next chunk); returns their count. */
  pushPcm(bytes: Uint8Array): number {
    let data = bytes;
    if (this.carry !== undefined) {
      data = new Uint8Array(bytes.length + 1);
      data[0] = this.carry;
      data.set(bytes, 1);
      this.carry = undefined;
    }
    if (data.length % 2 === 1) {
      this.carry = data[data.length - 1];
      data = data.subarray(0, data.length - 1);
    }
    const count = data.length / 2;
    if (count === 0) return 0;
    const buffer = this.context.createBuffer(1, count, this.sampleRate);
    const samples = buffer.getChannelData(0);
    const view = new DataView(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < count; i++) samples[i] = view.getInt16(2 * i, true) / 32768;
    this.play(buffer);
    return count;
  }

  play(buffer: AudioBuffer): void {
    const source = new AudioBufferSourceNode(this.context, { buffer });
    source.connect(this.context.destination);
    const now = this.context.currentTime;
    if (this.nextStart > 0 && this.nextStart < now) page.underruns++;
    const start = Math.max(this.nextStart, now + LEAD_SECONDS);
    source.start(start);
    this.lastStart = start;
    this.nextStart = start + buffer.duration;
    this.sounding.add(source);
    source.onended = () => {
      this.sounding.delete(source);
      page.samplesPlayed += buffer.length;
      if (this.sounding.size === 0) this.finished?.();
    };
  }

  /** Resolves once every scheduled source has played. */
  drained(): Promise<void> {
    if (this.sounding.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.finished = resolve));
  }

  stop(): void {
    for (const source of this.sounding) {
      source.onended = null;
      source.stop();
    }
    this.sounding.clear();
    this.finished?.();
  }
}

// --- Speaking -----------------------------------------------------------------------

let current: { abort: AbortController; player: AudioQueue | undefined } | undefined;
let downloadUrl: string | undefined;

async function speak(): Promise<void> {
  current?.abort.abort();
  current?.player?.stop();
  const run = { abort: new AbortController(), player: undefined as AudioQueue | undefined };
  current = run;
  const pressed = performance.now();
  Object.assign(page, { runs: page.runs + 1, ...freshRunFigures() });
  if (downloadUrl !== undefined) URL.revokeObjectURL(downloadUrl);
  download.hidden = true;
  showStats();
  const encoding = encodingNamed(formatSelect.value) ?? AudioEncoding.PCM;
  // PCM and WAV are played chunk by chunk; the other encodings are decoded once complete.
  const streamed = encoding === AudioEncoding.PCM || encoding === AudioEncoding.WAV;
  audioContext ??= new AudioContext({ latencyHint: "interactive" });
  const context = audioContext;
  void context.resume(); // inside the click, so allowed to start sound; audio queued meanwhile waits
  speakButton.disabled = true;
  stopButton.disabled = false;
  setStatus("requesting", "Requesting…");

  const chunks: Uint8Array[] = [];
  const scheduled = (count: number) => {
    if (count > 0 && page.firstAudioMs === undefined) page.firstAudioMs = performance.now() - pressed;
    page.samplesScheduled += count;
  };
  try {
    const stream = client().synthesizeStream(
      {
        ...(ssmlCheckbox.checked ? { ssml: textInput.value } : { text: textInput.value }),
        config: { voice: voiceSelect.value, encoding, speed: Number(speedInput.value) },
      },
      { signal: run.abort.signal },
    );
    const wav = encoding === AudioEncoding.WAV ? new WavHeaderStripper() : undefined;
    for await (const { event } of stream) {
      if (event.case === "start") {
        page.sampleRate = event.value.sampleRate;
        if (streamed) run.player = new AudioQueue(context, event.value.sampleRate);
      } else if (event.case === "chunk") {
        const bytes = event.value.audio;
        page.chunksReceived++;
        page.chunkArrivalsMs.push(performance.now() - pressed);
        page.bytesReceived += bytes.length;
        chunks.push(bytes);
        if (run.player) scheduled(run.player.pushPcm(wav ? wav.push(bytes) : bytes));
        setStatus("streaming", `Streaming sentence ${event.value.sentenceIndex + 1}…`);
      } else if (event.case === "summary") {
        page.summary = summaryOf(event.value);
      }
      showStats();
    }
    if (!streamed && chunks.length > 0) {
      const decoded = await context.decodeAudioData(await new Blob(chunks as BlobPart[]).arrayBuffer());
      run.player = new AudioQueue(context, decoded.sampleRate);
      page.sampleRate = decoded.sampleRate;
      run.player.play(decoded);
      scheduled(decoded.length);
    }
    offerDownload(chunks, encoding, page.sampleRate);
    showStats();
    const summary = page.summary;
    const figures = summary
      ? `${summary.durationSeconds.toFixed(2)} s of audio in ${summary.chunkCount} chunks, ${summary.sentenceCount} sentence${summary.sentenceCount === 1 ? "" : "s"}, ` +
        (summary.cached ? "from the cache" : `synthesized in ${Math.round(summary.generationTimeMs)} ms`) +
        (page.underruns > 0 ? `; ${page.underruns} gap${page.underruns === 1 ? "" : "s"} in playback` : "")
      : "no summary";
    setStatus("playing", `Playing: ${figures}.`);
    await run.player?.drained();
    if (current === run && page.state === "playing") setStatus("done", `Done: ${figures}.`);
  } catch (error) {
    if (run.abort.signal.aborted) return; // stopped, or replaced by a newer run
    run.player?.stop();
    page.error = describe(error);
    setStatus("error", `Failed: ${page.error}`);
  } finally {
    if (current === run) {
      speakButton.disabled = false;
      stopButton.disabled = true;
    }
    showStats();
  }
}

function summaryOf(summary: StreamSummary): NonNullable<PageState["summary"]> {
  const { durationSeconds, generationTimeMs, cached, sentenceCount, chunkCount } = summary;
  return { durationSeconds, generationTimeMs, cached, sentenceCount, chunkCount, audioBytes: Number(summary.audioBytes) };
}

function offerDownload(chunks: Uint8Array[], encoding: OutputEncoding, sampleRate: number): void {
  if (chunks.length === 0) return;
  downloadUrl = URL.createObjectURL(new Blob(chunks as BlobPart[], { type: contentTypeOf(encoding, sampleRate) }));
  download.href = downloadUrl;
  // Headerless PCM: the name says how to play it.
  download.download = encoding === AudioEncoding.PCM ? `speech-${sampleRate}hz-s16le.pcm` : `speech.${extensionOf(encoding)}`;
  download.hidden = false;
}

function stop(): void {
  if (!current) return;
  current.abort.abort();
  current.player?.stop();
  setStatus("stopped", "Stopped.");
  speakButton.disabled = false;
  stopButton.disabled = true;
}

// --- Live mode ----------------------------------------------------------------------

/** Interval of the highlight's update, and of the empty text that keeps an idle session open (the server ends it after 30 s). */
const HIGHLIGHT_MS = 40;
const KEEP_ALIVE_MS = 10_000;

interface LiveRun {
  readonly session: LiveSession;
  player: AudioQueue | undefined;
  sampleRate: number;
  /** The text sent, in code points: the words' text positions index it. */
  sent: string[];
  words: LiveWord[];
  /** Each chunk's place in the utterance (samples) and on the AudioContext's clock. */
  placed: { offset: number; samples: number; start: number }[];
  shownWord: LiveWord | undefined;
}

let live: LiveRun | undefined;
let lastLive: LiveRun | undefined;
let typedBefore = "";

function openLive(context: AudioContext): LiveRun {
  const apiKey = apiKeyInput.value.trim();
  const session = createTtsWebClient({ baseUrl: window.location.origin, ...(apiKey === "" ? {} : { apiKey }) }).liveSession({
    config: { voice: voiceSelect.value, encoding: AudioEncoding.PCM, speed: Number(speedInput.value), enableWordTimestamps: true },
  });
  const run: LiveRun = { session, player: undefined, sampleRate: 0, sent: [], words: [], placed: [], shownWord: undefined };
  page.live = { sent: "", chunks: 0, samples: 0, words: 0, highlighted: [], ended: false };
  Object.assign(page, { samplesScheduled: 0, samplesPlayed: 0, underruns: 0, error: undefined });
  lastLive = run;
  void readLive(run, context);
  return run;
}

async function readLive(run: LiveRun, context: AudioContext): Promise<void> {
  const keepAlive = setInterval(() => run.session.send(""), KEEP_ALIVE_MS);
  try {
    for await (const event of run.session) {
      if (event.type === "start") {
        run.sampleRate = event.sampleRate;
        run.player = new AudioQueue(context, event.sampleRate);
      } else if (event.type === "words") {
        run.words.push(...event.words);
        page.live.words += event.words.length;
      } else if (event.type === "audio" && run.player) {
        const samples = run.player.pushPcm(event.audio);
        run.placed.push({ offset: event.sampleOffset, samples, start: run.player.lastStart });
        page.live.chunks++;
        page.live.samples += samples;
        page.samplesScheduled += samples;
        setStatus("streaming", `Live: sentence ${event.sentenceIndex + 1} is playing.`);
      }
    }
  } catch (error) {
    page.error = describe(error);
    setStatus("error", `Live session ended: ${page.error}`);
  } finally {
    clearInterval(keepAlive);
    page.live.ended = true;
    if (live === run) live = undefined;
  }
}

/** Marks the word being heard now in the text sent. */
function highlight(): void {
  const run = lastLive;
  if (run === undefined || audioContext === undefined || run.sampleRate === 0) return;
  const now = audioContext.currentTime;
  let chunk: LiveRun["placed"][number] | undefined;
  for (const placed of run.placed) if (placed.start <= now) chunk = placed;
  const heard = chunk === undefined ? -1 : (chunk.offset + Math.min(chunk.samples, (now - chunk.start) * run.sampleRate)) / run.sampleRate;
  const word = run.words.find((w) => w.startSeconds <= heard && heard < w.endSeconds);
  if (word === run.shownWord) return;
  run.shownWord = word;
  if (word) page.live.highlighted.push(word.word);
  showLiveText(run);
}

function showLiveText(run: LiveRun): void {
  const word = run.shownWord;
  if (word === undefined) {
    liveText.textContent = run.sent.join("");
    return;
  }
  const mark = document.createElement("mark");
  mark.textContent = run.sent.slice(word.textStart, word.textEnd).join("");
  liveText.replaceChildren(run.sent.slice(0, word.textStart).join(""), mark, run.sent.slice(word.textEnd).join(""));
}

/** Sends what an input event added at the end of the text; an edit of text already sent is not spoken. */
function sendTyped(): void {
  const value = textInput.value;
  const added = value.startsWith(typedBefore) ? value.slice(typedBefore.length) : "";
  typedBefore = value;
  if (added === "") return;
  audioContext ??= new AudioContext({ latencyHint: "interactive" });
  live ??= openLive(audioContext);
  live.session.send(added);
  live.sent.push(...Array.from(added));
  page.live.sent = live.sent.join("");
  showLiveText(live);
}

function toggleLive(): void {
  if (liveCheckbox.checked) {
    // Inside the click: the audio may start.
    audioContext ??= new AudioContext({ latencyHint: "interactive" });
    void audioContext.resume();
    typedBefore = textInput.value;
    liveText.hidden = false;
    liveText.textContent = "";
    setStatus("idle", "Live: type, and the text is spoken as you write it. Speak says what is waiting at once.");
  } else {
    // The rest is spoken; the next time starts a new session.
    live?.session.close();
    live = undefined;
  }
}

setInterval(highlight, HIGHLIGHT_MS);
liveCheckbox.addEventListener("change", toggleLive);
textInput.addEventListener("input", () => {
  if (liveCheckbox.checked) sendTyped();
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (liveCheckbox.checked) live?.session.flush();
  else void speak();
});
stopButton.addEventListener("click", stop);
speedInput.addEventListener("input", () => (speedValue.textContent = `${Number(speedInput.value).toFixed(2)}×`));
apiKeyInput.addEventListener("change", () => void loadVoices());
protocolSelect.addEventListener("change", () => void loadVoices());
void loadVoices();
