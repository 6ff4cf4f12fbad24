// What the Node entry point (index.ts) and the browser one (web.ts) both export: the
// messages and enums, errors, request shapes, interceptors and the live session's types.
export * from "../../../gen/aetheros/tts/v1/tts_pb.js";
export { Code, ConnectError } from "@connectrpc/connect";
export type { SynthesizeRequestInit, SynthesizeStreamRequestInit, TtsHelpers } from "./helpers.js";
export { bearer, RETRY_AFTER_HEADER, type RetryOptions, retry } from "./interceptors.js";
export type {
  LiveAudio,
  LiveEvent,
  LiveSession,
  LiveSessionOptions,
  LiveStart,
  LiveTimepoint,
  LiveUtteranceEnd,
  LiveWord,
  LiveWords,
  SynthesisConfigInit,
} from "./live.js";
