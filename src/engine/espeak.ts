/**
 * The espeak-ng binding (native/espeak, built by `npm install`). espeak-ng is a C library
 * with global state; the binding serializes calls and keeps the selected voice.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const nativeDir = fileURLToPath(new URL("../../native/espeak/", import.meta.url));

/** One espeak-ng clause: IPA phonemes and espeak's raw clause flags. */
export interface EspeakClause {
  phonemes: string;
  terminator: number;
}

interface EspeakBinding {
  initialize(dataDir: string): void;
  phonemize(voice: string, text: string): EspeakClause[];
}

let binding: EspeakBinding | undefined;

function load(): EspeakBinding {
  if (binding) return binding;
  const file = `${nativeDir}espeak.node`;
  if (!existsSync(file)) {
    throw new Error(`espeak-ng binding missing at ${file}: run \`npm ci\` (its postinstall builds native/espeak)`);
  }
  const loaded = createRequire(import.meta.url)(file) as EspeakBinding;
  loaded.initialize(nativeDir);
  binding = loaded;
  return loaded;
}

/** Phonemizes `text` clause by clause with the espeak-ng voice `espeakVoice` (e.g. "en-us"). */
export function espeakClauses(espeakVoice: string, text: string): EspeakClause[] {
  return load().phonemize(espeakVoice, text);
}
