/**
 * Turns mono 16-bit PCM into one encoded file, piece by piece. The concatenation of
 * every array returned by write() and end() is one valid file; in streaming mode the
 * first non-empty piece is enough for a player to start.
 */
export interface AudioEncoder {
  /** Sample rate a decoder outputs: the requested rate, except 48000 for ogg_opus. */
  readonly sampleRate: number;
  /** Encodes more samples; may return no bytes while the codec fills a frame. */
  write(samples: Int16Array): Uint8Array;
  /** Flushes the codec and returns the last bytes. The encoder is unusable afterwards. */
  end(): Uint8Array;
}

export interface EncoderOptions {
  /**
   * True: bytes go out as soon as the codec produces them and headers carry
   * "unknown length" where the format needs one. False: a whole file whose headers
   * carry exact sizes, returned by end().
   */
  streaming: boolean;
}
