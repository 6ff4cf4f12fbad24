// Types for the two Emscripten builds that ship without any: only what src/audio calls.

declare module "@echogarden/speex-resampler-wasm/simd" {
  /** SpeexDSP's resampler (speex_resampler.h), spx_uint32_t pointers as numbers. */
  export interface SpeexResamplerModule {
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    /** A view of the module's memory; re-read it after any call that may grow the memory. */
    readonly HEAP16: Int16Array;
    readonly HEAP32: Int32Array;
    _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errorPointer: number): number;
    _speex_resampler_destroy(state: number): void;
    _speex_resampler_reset_mem(state: number): number;
    _speex_resampler_skip_zeros(state: number): number;
    _speex_resampler_get_input_latency(state: number): number;
    _speex_resampler_process_int(
      state: number,
      channel: number,
      input: number,
      inputLengthPointer: number,
      output: number,
      outputLengthPointer: number,
    ): number;
  }
  const createModule: () => Promise<SpeexResamplerModule>;
  export default createModule;
}

declare module "@echogarden/sonic-wasm" {
  /** Sonic's stream API (sonic.h). */
  export interface SonicModule {
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    /** A view of the module's memory; re-read it after any call that may grow the memory. */
    readonly HEAP16: Int16Array;
    _sonicCreateStream(sampleRate: number, channels: number): number;
    _sonicDestroyStream(stream: number): void;
    _sonicSetPitch(stream: number, pitch: number): void;
    _sonicSetQuality(stream: number, quality: number): void;
    _sonicWriteShortToStream(stream: number, samples: number, count: number): number;
    _sonicFlushStream(stream: number): number;
    _sonicSamplesAvailable(stream: number): number;
    _sonicReadShortFromStream(stream: number, samples: number, maxSamples: number): number;
  }
  const createModule: () => Promise<SonicModule>;
  export default createModule;
}
