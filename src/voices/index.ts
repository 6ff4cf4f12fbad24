/** Installed voices as files (the catalog), their languages, and fetching a missing voice. */
export { type CatalogVoice, VoiceCatalog } from "./catalog.js";
export { ensureVoice, type FetchOptions, fetchVoice, isVoiceInstalled, VoiceFetchError, voiceFiles } from "./fetch.js";
export { bcp47, matchesLanguage } from "./language.js";
export { progressBar } from "./progress.js";
