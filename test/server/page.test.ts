// The browser page at GET / end to end: the real server on an ephemeral port, Debian's
// headless Chromium driven by playwright-core, the real voice. The page reports what
// its audio graph received in window.ttsPage; the tests hold that against the stream's
// own summary. Set PAGE_SCREENSHOT=/some/file.png to keep a screenshot after a synthesis.

import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PageState } from "../../src/server/page/page.js";
import { DEFAULT_VOICE } from "../support/voice.js";
import { callError, startServer, type RunningServer } from "./running-server.js";
import { ttsOver } from "./support.js";

const CHROMIUM = "/usr/bin/chromium";
const WAV_HEADER_BYTES = 44;
const TEXT = "The page plays this speech while it streams. A second sentence follows the first.";
const API_KEY = "page-test-key-3b8e1f0c9a27d654";

let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"] });
});
afterAll(() => browser?.close());

/** A fresh page on `baseUrl`, with uncaught errors and CSP violations collected. */
async function openPage(baseUrl: string): Promise<{ page: Page; problems: string[] }> {
  const page = await (await browser.newContext()).newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  page.on("console", (message) => {
    if (/content security policy/i.test(message.text())) problems.push(`csp: ${message.text()}`);
  });
  await page.goto(baseUrl);
  return { page, problems };
}

const state = (page: Page): Promise<PageState> => page.evaluate(() => window.ttsPage);

/** Waits until the page has listed voices or failed to. */
async function voicesSettled(page: Page): Promise<PageState> {
  await page.waitForFunction(() => window.ttsPage.voices.length > 0 || window.ttsPage.state === "error");
  return state(page);
}

/** Presses Speak and waits until the run is over: played to its end, or failed. */
async function speak(page: Page): Promise<PageState> {
  const runs = (await state(page)).runs;
  await page.click("#speak");
  await page.waitForFunction(
    (before) => window.ttsPage.runs > before && ["done", "error", "stopped"].includes(window.ttsPage.state),
    runs,
    { timeout: 100_000 },
  );
  return state(page);
}

describe("the browser page", () => {
  let running: RunningServer;
  beforeAll(async () => {
    running = await startServer();
  });
  afterAll(() => running?.app.close());

  it("is served with its bundle: content types, ETags and caching, beside /metrics", async () => {
    const html = await fetch(`${running.baseUrl}/`);
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html.headers.get("cache-control")).toBe("no-cache");
    expect(html.headers.get("content-security-policy")).toContain("connect-src 'self'");
    const body = await html.text();
    const script = /<script type="module" src="(\/page\.js\?v=[\w-]+)"><\/script>/.exec(body)?.[1];
    expect(script).toBeDefined();

    const bundle = await fetch(`${running.baseUrl}${script}`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(bundle.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await bundle.text()).length).toBeGreaterThan(1000);
    const etag = bundle.headers.get("etag")!;
    const unversioned = await fetch(`${running.baseUrl}/page.js`, { headers: { "if-none-match": etag } });
    expect(unversioned.status).toBe(304);
    expect(unversioned.headers.get("cache-control")).toBe("no-cache");
    const again = await fetch(`${running.baseUrl}/`, { headers: { "if-none-match": html.headers.get("etag")! } });
    expect(again.status).toBe(304);

    expect((await fetch(`${running.baseUrl}/`, { method: "HEAD" })).status).toBe(200);
    const post = await fetch(`${running.baseUrl}/`, { method: "POST" });
    expect([post.status, post.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    expect((await fetch(`${running.baseUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${running.baseUrl}/nothing-here`)).status).toBe(404);
  });

  it("lists the installed voices from ListVoices, the default one selected", async () => {
    const { page, problems } = await openPage(running.baseUrl);
    const listed = await ttsOver(running, "Connect").listVoices({});
    const shown = await voicesSettled(page);
    expect(shown.error).toBeUndefined();
    expect(shown.voices).toEqual(listed.voices.map((voice) => voice.id));
    expect(shown.voices).toContain(DEFAULT_VOICE);
    expect(await page.locator("#voice").inputValue()).toBe(DEFAULT_VOICE);
    expect(await page.locator("#voice option:checked").textContent()).toContain("Joe");
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it.each([
    ["pcm", "connect"],
    ["wav", "grpc-web"],
  ] as const)("plays a %s stream over %s as it arrives: every chunk scheduled and played", async (format, protocol) => {
    const { page, problems } = await openPage(running.baseUrl);
    await voicesSettled(page);
    await page.fill("#text", TEXT);
    await page.selectOption("#format", format);
    await page.selectOption("#protocol", protocol);
    await voicesSettled(page); // the protocol change lists the voices again

    const run = await speak(page);
    expect(run.error).toBeUndefined();
    expect(run.state).toBe("done");
    const summary = run.summary!;
    expect(summary.chunkCount).toBeGreaterThan(0);
    expect(summary.sentenceCount).toBe(2);
    expect(run.chunksReceived).toBe(summary.chunkCount);
    expect(run.bytesReceived).toBe(summary.audioBytes);
    expect(run.sampleRate).toBe(22050);
    // Every sample of the stream went into the audio graph, and played to its end.
    const samples = (summary.audioBytes - (format === "wav" ? WAV_HEADER_BYTES : 0)) / 2;
    expect(run.samplesScheduled).toBe(samples);
    expect(Math.abs(run.samplesScheduled - summary.durationSeconds * run.sampleRate)).toBeLessThanOrEqual(1);
    expect(run.samplesPlayed).toBe(run.samplesScheduled);
    expect(run.firstAudioMs).toBeGreaterThan(0);

    // The figures are on the page for people too.
    expect(await page.textContent("#status")).toMatch(/^Done: \d+\.\d\d s of audio in \d+ chunks, 2 sentences/);
    expect(await page.textContent("#stat-samples")).toBe(run.samplesScheduled.toLocaleString("en-US"));
    expect(await page.textContent("#stat-chunks")).toBe(`${summary.chunkCount} of ${summary.chunkCount}`);
    expect(await page.getAttribute("#download", "download")).toBe(format === "wav" ? "speech.wav" : "speech-22050hz-s16le.pcm");
    if (process.env.PAGE_SCREENSHOT) await page.screenshot({ path: process.env.PAGE_SCREENSHOT, fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("decodes MP3, Ogg Opus and FLAC once their stream is complete, and plays them", async () => {
    const { page, problems } = await openPage(running.baseUrl);
    await voicesSettled(page);
    await page.fill("#text", "Hello there.");
    for (const format of ["mp3", "ogg_opus", "flac"]) {
      await page.selectOption("#format", format);
      const run = await speak(page);
      expect([format, run.state, run.error]).toEqual([format, "done", undefined]);
      expect(run.bytesReceived).toBe(run.summary!.audioBytes);
      expect(run.samplesScheduled).toBeGreaterThan(0);
      expect(run.samplesPlayed).toBe(run.samplesScheduled);
      // Decoded at the AudioContext's rate; MP3 keeps its encoder's padding, hence the margin.
      expect(Math.abs(run.samplesScheduled / run.sampleRate - run.summary!.durationSeconds)).toBeLessThan(0.1);
    }
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("sends the speed control: twice as fast is about half as long", async () => {
    const { page } = await openPage(running.baseUrl);
    await voicesSettled(page);
    await page.fill("#text", TEXT);
    const normal = await speak(page);
    await page.locator("#speed").fill("2");
    expect(await page.textContent("#speed-value")).toBe("2.00×");
    const fast = await speak(page);
    expect(fast.state).toBe("done");
    expect(fast.summary!.durationSeconds).toBeLessThan(normal.summary!.durationSeconds * 0.75);
    expect(fast.samplesPlayed).toBe(fast.samplesScheduled);
    await page.context().close();
  });

  it("speaks the text as an SSML document when SSML is ticked: a break 3 s longer is 3 s more audio", async () => {
    const { page, problems } = await openPage(running.baseUrl);
    await voicesSettled(page);
    await page.check("#ssml");
    const durations: number[] = [];
    for (const pause of ["500ms", "3500ms"]) {
      await page.fill("#text", `<speak>One.<break time="${pause}"/>Two.</speak>`);
      const run = await speak(page);
      expect([run.state, run.error]).toEqual(["done", undefined]);
      expect(run.samplesPlayed).toBe(run.samplesScheduled);
      durations.push(run.summary!.durationSeconds);
    }
    // The page speaks with the voice's noise, which moves the words' lengths by a few frames.
    expect(Math.abs(durations[1]! - durations[0]! - 3)).toBeLessThan(0.25);
    // Unticked, the same text is plain text: the tags are not read as SSML.
    await page.uncheck("#ssml");
    const plain = await speak(page);
    // Read out, "speak One break time equals 3500 ms Two speak" took 5.2 s here, against 4.5 s.
    expect(Math.abs(plain.summary!.durationSeconds - durations[1]!)).toBeGreaterThan(0.3);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("shows the server's own error message for empty text, and plays nothing", async () => {
    const expected = await callError(
      (async () => {
        for await (const _ of ttsOver(running, "Connect").synthesizeStream({ text: "" }));
      })(),
    );
    const { page, problems } = await openPage(running.baseUrl);
    await voicesSettled(page);
    await page.fill("#text", "");
    const run = await speak(page);
    expect(run.state).toBe("error");
    expect(run.error).toContain(expected.rawMessage);
    expect(await page.textContent("#status")).toBe(`Failed: ${expected.message}`);
    expect(await page.getAttribute("#status", "data-state")).toBe("error");
    expect([run.chunksReceived, run.samplesScheduled]).toEqual([0, 0]);
    expect(await page.isEnabled("#speak")).toBe(true);
    expect(problems).toEqual([]);
    await page.context().close();
  });
  it("live mode speaks what is typed as it is typed, over the WebSocket, and highlights each word as it is heard", async () => {
    const typed = "Hello there. How are you today?";
    const { page, problems } = await openPage(running.baseUrl);
    await voicesSettled(page);
    await page.fill("#text", "");
    await page.check("#live");
    // One input event per character, each sending what it added.
    await page.locator("#text").pressSequentially(typed, { delay: 20 });
    await page.waitForSelector("#live-text mark", { timeout: 100_000 });
    // Unchecking ends the session: the rest is spoken, then it closes.
    await page.uncheck("#live");
    await page.waitForFunction(() => window.ttsPage.live.ended && window.ttsPage.samplesPlayed === window.ttsPage.live.samples, undefined, {
      timeout: 100_000,
    });

    const { live, error, samplesPlayed } = await state(page);
    expect(error).toBeUndefined();
    expect(live.sent).toBe(typed);
    expect(live.words).toBe(6);
    expect(live.chunks).toBeGreaterThan(0);
    // Both sentences, every sample played (22050 Hz: over a second of speech).
    expect(live.samples).toBeGreaterThan(22050);
    expect(samplesPlayed).toBe(live.samples);
    // Highlighted words are the typed words, in the order they were heard.
    const words = ["Hello", "there", "How", "are", "you", "today"];
    expect(live.highlighted.length).toBeGreaterThanOrEqual(2);
    const positions = live.highlighted.map((word) => words.indexOf(word));
    expect(positions.every((at) => at >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(await page.textContent("#live-text")).toBe(typed);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

describe("the browser page with API keys on", () => {
  let running: RunningServer;
  beforeAll(async () => {
    running = await startServer({ API_KEYS: API_KEY });
  });
  afterAll(() => running?.app.close());

  it("serves the page to anyone, and calls with the key typed into it as a bearer token", async () => {
    const { page, problems } = await openPage(running.baseUrl);
    const refused = await voicesSettled(page);
    expect(refused.error).toContain("missing API key");
    expect(await page.textContent("#status")).toContain("Could not list voices: [unauthenticated]");

    await page.click("#api-key-settings summary");
    await page.fill("#api-key", API_KEY);
    await page.locator("#api-key").dispatchEvent("change");
    await page.waitForFunction(() => window.ttsPage.voices.length > 0);
    expect((await state(page)).voices).toContain(DEFAULT_VOICE);

    await page.fill("#text", "Hello.");
    const run = await speak(page);
    expect(run.error).toBeUndefined();
    expect(run.state).toBe("done");
    expect(run.samplesPlayed).toBe(run.samplesScheduled);
    expect(run.samplesScheduled * 2).toBe(run.summary!.audioBytes);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
