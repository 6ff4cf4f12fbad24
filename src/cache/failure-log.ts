import type { Logger } from "pino";

/**
 * Logs a tier's failures once per streak: the first failure is a warning,
 * the first success after it an info line, and everything in between is
 * silent so an outage cannot flood the log.
 */
export class FailureLog {
  readonly #logger: Logger;
  readonly #tier: string;
  #failing = false;

  constructor(logger: Logger, tier: string) {
    this.#logger = logger;
    this.#tier = tier;
  }

  get failing(): boolean {
    return this.#failing;
  }

  fail(error: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    this.#logger.warn(
      { err: error, tier: this.#tier },
      `${this.#tier} cache tier failing; its lookups miss and its stores are dropped until it recovers`,
    );
  }

  recover(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#logger.info({ tier: this.#tier }, `${this.#tier} cache tier recovered`);
  }
}
