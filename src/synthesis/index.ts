/** Between a validated request and its audio: validation, admission, the synthesis pipeline and the stack that builds them. */
export { Admission, type AdmissionStats } from "./admission.js";
export { type RequestLimits, SAMPLE_RATES, type SpeechRequest, validateConfig, validateRequest } from "./request.js";
export { type LiveEvent, type LiveInput, type LiveLimits, type LiveSettings, liveSession } from "./live-session.js";
export { createSynthesisStack, type SynthesisStack } from "./stack.js";
export { type SpeechSummary, type StreamEvent, type SynthesisResult, Synthesizer, type WordTimestamp } from "./synthesizer.js";
