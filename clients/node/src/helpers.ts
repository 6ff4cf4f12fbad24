/** What both clients (Node and browser) add to the generated methods. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CallOptions, Client } from "@connectrpc/connect";
import {
  HealthStatus,
  type SynthesizeRequestSchema,
  type SynthesizeStreamRequestSchema,
  type TtsService,
} from "../../../gen/aetheros/tts/v1/tts_pb.js";

export type SynthesizeRequestInit = MessageInitShape<typeof SynthesizeRequestSchema>;
export type SynthesizeStreamRequestInit = MessageInitShape<typeof SynthesizeStreamRequestSchema>;

export interface TtsHelpers {
  /** Synthesize, and only the audio: the whole file in the requested encoding. */
  synthesizeToBytes(request: SynthesizeRequestInit, options?: CallOptions): Promise<Uint8Array>;
  /** SynthesizeStream's audio chunks in order, without the start and summary messages; concatenated they make one file. */
  audioStream(request: SynthesizeStreamRequestInit, options?: CallOptions): AsyncIterable<Uint8Array>;
  /** True when the service reports SERVING (its voice is loaded and it takes calls). */
  isServing(options?: CallOptions): Promise<boolean>;
}

export function helpers(client: Client<typeof TtsService>): TtsHelpers {
  return {
    async synthesizeToBytes(request, options) {
      return (await client.synthesize(request, options)).audio;
    },
    async *audioStream(request, options) {
      for await (const message of client.synthesizeStream(request, options)) {
        if (message.event.case === "chunk") yield message.event.value.audio;
      }
    },
    async isServing(options) {
      return (await client.health({}, options)).status === HealthStatus.SERVING;
    },
  };
}
