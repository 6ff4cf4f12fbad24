// The standard grpc.health.v1 health service. Every service it knows starts
// NOT_SERVING, turns SERVING when the application reports that it is ready,
// and turns NOT_SERVING for good when shutdown begins.

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthCheckResponseSchema,
} from "../../gen/grpc/health/v1/health_pb.js";

export { ServingStatus };

/** The name health clients use for the server as a whole. */
export const WHOLE_SERVER = "";

export class HealthReporter {
  private readonly statuses: Map<string, ServingStatus>;
  private shuttingDown = false;
  private ready = false;
  private ableToServe = true;
  // Bumped on every change so a watcher can tell whether it missed one.
  private version = 0;
  private readonly onChange = new Set<() => void>();

  /** serviceNames: the fully qualified services reported, besides the whole server. */
  constructor(serviceNames: readonly string[]) {
    this.statuses = new Map([WHOLE_SERVER, ...serviceNames].map((name) => [name, ServingStatus.NOT_SERVING]));
  }

  /** The application is ready: every service is SERVING, unless shutdown has begun or it cannot serve. */
  markServing(): void {
    this.ready = true;
    this.update();
  }

  /** Whether the service can answer at all now (its default voice speaks); NOT_SERVING while not. */
  setAbleToServe(able: boolean): void {
    this.ableToServe = able;
    this.update();
  }

  /** Shutdown has begun: every service is NOT_SERVING from now on, and Watch streams end. */
  markShuttingDown(): void {
    this.shuttingDown = true;
    this.setAll(ServingStatus.NOT_SERVING);
  }

  private update(): void {
    if (this.shuttingDown) return;
    const status = this.ready && this.ableToServe ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    if (this.statuses.get(WHOLE_SERVER) !== status) this.setAll(status);
  }

  /** Status of a service, or undefined for a service this server does not have. */
  status(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /**
   * The status of a service now and after each change, until shutdown (whose
   * NOT_SERVING is the last value) or until signal aborts.
   */
  async *watch(service: string, signal: AbortSignal): AsyncGenerator<ServingStatus> {
    let sent: ServingStatus | undefined;
    while (!signal.aborted) {
      const version = this.version;
      const final = this.shuttingDown;
      const current = this.status(service) ?? ServingStatus.SERVICE_UNKNOWN;
      if (current !== sent) {
        sent = current;
        yield current;
      }
      if (final) return;
      if (this.version === version) await this.nextChange(signal);
    }
  }

  private setAll(status: ServingStatus): void {
    for (const name of this.statuses.keys()) this.statuses.set(name, status);
    this.version++;
    for (const notify of this.onChange) notify();
  }

  private nextChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.onChange.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.onChange.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

export function createHealthService(reporter: HealthReporter): ServiceImpl<typeof Health> {
  return {
    check(request) {
      const status = reporter.status(request.service);
      if (status === undefined) throw new ConnectError(`unknown service "${request.service}"`, Code.NotFound);
      return create(HealthCheckResponseSchema, { status });
    },
    async *watch(request, context) {
      for await (const status of reporter.watch(request.service, context.signal)) {
        yield create(HealthCheckResponseSchema, { status });
      }
    },
  };
}
