/**
 * The benchmark's English texts. Every subject speaks the same strings; the lengths are
 * checked at start-up so an edit cannot quietly change what a figure means.
 */

/** Uncached latency: one text per size, [nominal characters, text]. */
export const LATENCY_TEXTS: ReadonlyArray<readonly [number, string]> = [
  [50, "The morning train leaves the station at half past."],
  [100, "Please remember to water the plants on the balcony, and close every window before you leave today."],
  [
    200,
    "Our quarterly report shows steady growth in every region, although shipping delays slowed deliveries in March. " +
      "The team expects a much stronger summer once the new warehouse finally opens near the coast.",
  ],
];

/** Time to first audio: a paragraph of about 1,000 characters; its first sentence alone is the yardstick. */
export const PARAGRAPH_FIRST_SENTENCE =
  "The old lighthouse stood at the edge of the cliff, watching over the harbor for more than a century.";
export const PARAGRAPH = [
  PARAGRAPH_FIRST_SENTENCE,
  "Every night its lamp turned slowly, sending a pale beam across the dark water to guide the fishing boats home.",
  "The keeper, a quiet man named Thomas, climbed the narrow stairs each evening to trim the wick and polish the glass.",
  "In winter the storms came without warning, and the waves threw salt spray high against the windows of the tower.",
  "Sailors in the village told stories of ships that had been saved by that light when every other hope was gone.",
  "When the harbor finally installed an automatic beacon, Thomas stayed on, tending the garden beside the keeper's cottage.",
  "Children from the school visited him on Fridays, and he showed them the logbooks filled with careful notes about the weather.",
  "Today the lighthouse is a small museum, and its lamp still shines on summer evenings for the visitors who wait on the rocks below.",
  "Nobody in the village can imagine the harbor without it.",
].join(" ");

/**
 * Throughput: distinct texts of about 100 characters, one per request of a batch. Every
 * concurrency level and configuration gets the same batch, so the work is identical.
 */
export const THROUGHPUT_TEXTS: readonly string[] = [
  "A gentle breeze moved through the tall grass as the sun went down behind the distant hills tonight.",
  "The library will extend its opening hours during the exam period, starting on the first of next month.",
  "He poured a cup of strong coffee, opened the newspaper, and read the headlines twice before breakfast.",
  "Scientists discovered a new species of frog in the rainforest, hidden beneath the leaves near a stream.",
  "Remember that the meeting has moved to the large conference room on the third floor of the building.",
  "The bakery on the corner sells fresh bread every morning, and the line often reaches down the street.",
  "After months of practice, the young pianist finally performed the difficult sonata without a mistake.",
  "Heavy rain is expected this weekend, so the outdoor concert in the park has been postponed until June.",
];

/** One long sentence with no clause pause (one encoder run, decoded in windows). */
export const LONG_SENTENCE =
  "the committee reviewed every proposal that arrived before the deadline and then it compared the expected costs with the benefits " +
  "for the people who live in the northern districts and the farmers who depend on the old canal for water during the long dry summer " +
  "months when the river runs low and the fields turn brown";

/**
 * Time to first audio against Piper's first chunk (issue 13): one short sentence, one long
 * sentence with clause pauses, and a paragraph that opens with a very short sentence.
 */
export const TTFA_TEXTS: ReadonlyArray<{ key: string; label: string; text: string }> = [
  { key: "sentence-50", label: "one 50-character sentence", text: LATENCY_TEXTS[0]![1] },
  {
    key: "sentence-300",
    label: "one ~300-character sentence with commas",
    text:
      "When the storm finally passed, the fishermen pulled their boats back onto the wet sand, checked every net and rope for damage, " +
      "shared a pot of hot soup beside the harbor wall, and talked quietly about the long night, the lost lobster traps, and the keeper " +
      "who had kept the lamp burning until dawn.",
  },
  {
    key: "good-morning",
    label: 'a paragraph whose first sentence is "Good morning."',
    text:
      "Good morning. Today the weather will be mild and sunny across most of the region, with a light breeze from the west. " +
      "In the afternoon, clouds will gather over the hills, and a few showers are possible after six o'clock. " +
      "Tomorrow brings cooler air, so keep a jacket close at hand if you plan to be outside in the evening.",
  },
];

/**
 * A text of about `length` characters (at most `length`) made of whole sentences of the
 * texts above, for cache hits on long texts (issue 12: 5,000 characters, MAX_TEXT_LENGTH).
 */
export function longText(length: number): string {
  const sentences = [PARAGRAPH, ...THROUGHPUT_TEXTS, ...LATENCY_TEXTS.map(([, t]) => t)].flatMap((t) => t.match(/[^.!?]+[.!?]/g) ?? []);
  let text = "";
  for (let i = 0; ; i++) {
    const next = `${text}${text ? " " : ""}${sentences[i % sentences.length]!.trim()}`;
    if (next.length > length) return text;
    text = next;
  }
}

/**
 * ONE sentence of exactly `length` characters (the words of LONG_SENTENCE over and over, no
 * full stop until the end): the longest input the service accepts, as one sentence.
 */
export function oneSentence(length: number): string {
  let words = "";
  while (words.length < length) words += `${LONG_SENTENCE} and `;
  const body = words.slice(0, length - 1).replace(/ $/, "a");
  return `${body}.`;
}

/** Fails fast when a text is far from its nominal length. */
export function checkTexts(): void {
  for (const [nominal, text] of LATENCY_TEXTS) {
    if (Math.abs(text.length - nominal) > nominal * 0.06)
      throw new Error(`latency text of nominal ${nominal} characters has ${text.length}`);
  }
  if (Math.abs(PARAGRAPH.length - 1000) > 60) throw new Error(`the paragraph has ${PARAGRAPH.length} characters, expected about 1,000`);
  for (const text of THROUGHPUT_TEXTS) {
    if (Math.abs(text.length - 100) > 6) throw new Error(`throughput text has ${text.length} characters, expected about 100: ${text}`);
  }
  if (new Set(THROUGHPUT_TEXTS).size !== THROUGHPUT_TEXTS.length) throw new Error("throughput texts must be distinct");
  const long = TTFA_TEXTS.find((t) => t.key === "sentence-300")!.text;
  if (Math.abs(long.length - 300) > 20 || /[.!?]./.test(long))
    throw new Error(`the long sentence must be one ~300-character sentence: ${long.length}`);
  if (!TTFA_TEXTS.find((t) => t.key === "good-morning")!.text.startsWith("Good morning. "))
    throw new Error("the paragraph must open with Good morning.");
  for (const n of [5000, 1234]) {
    if (longText(n).length < n - 150) throw new Error(`longText(${n}) has ${longText(n).length} characters`);
    if (oneSentence(n).length !== n || /[.!?]./.test(oneSentence(n)))
      throw new Error(`oneSentence(${n}) is not one sentence of ${n} characters`);
  }
}
