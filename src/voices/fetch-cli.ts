/** `npm run voices:fetch -- <voice> [<voice>…]`: downloads voices into MODELS_DIR. */
import { loadConfig } from "../config/config.js";
import { fetchVoice, VoiceFetchError } from "./fetch.js";
import { progressBar } from "./progress.js";

const config = loadConfig();
const voices = process.argv.slice(2);
if (voices.length === 0) voices.push(config.piperModelName);

for (const voice of voices) {
  try {
    const source = await fetchVoice(config.modelsDir, voice, { onProgress: progressBar(), log: (m) => console.error(m) });
    console.log(`${voice}: installed in ${config.modelsDir} (from ${source})`);
  } catch (error) {
    console.error(error instanceof VoiceFetchError ? error.message : error);
    process.exitCode = 1;
  }
}
