import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { Redis } from "ioredis";

/** A throwaway redis-server on 127.0.0.1, without persistence. */
export class RedisServer {
  readonly port: number;
  #process: ChildProcess | undefined;

  private constructor(port: number) {
    this.port = port;
  }

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server again on the same port (empty: nothing is saved). */
  async restart(): Promise<void> {
    const child = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#process = child;
    await new Promise<void>((resolve, reject) => {
      let output = "";
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
  }

  /** SIGSTOP: the server keeps its connections open but answers nothing, as when it hangs. */
  pause(): void {
    this.#process?.kill("SIGSTOP");
  }

  /** SIGCONT: a paused server answers again. */
  resume(): void {
    this.#process?.kill("SIGCONT");
  }

  /** Stores `count` keys `<prefix>0`… of `valueBytes` bytes each, server-side in a few calls. */
  async fill(prefix: string, count: number, valueBytes: number): Promise<void> {
    const script = "for i = ARGV[1], ARGV[2] do redis.call('SET', KEYS[1] .. i, string.rep('x', tonumber(ARGV[3]))) end";
    await this.#withClient(async (client) => {
      for (let start = 0; start < count; start += 20_000) {
        await client.eval(script, 1, prefix, start, Math.min(start + 20_000, count) - 1, valueBytes);
      }
    });
  }

  /**
   * How many times each command was called since start, from INFO commandstats (e.g.
   * { scan: 3 }), leaving out what reading them costs: the HELLO, CLIENT and INFO calls
   * of a connection made for it.
   */
  commandCalls(): Promise<Record<string, number>> {
    return this.#withClient(async (client) => {
      const info = await client.info("commandstats");
      const calls: Record<string, number> = {};
      for (const [, command, count] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        if (command === "hello" || command === "info" || command!.startsWith("client")) continue;
        calls[command!] = Number(count);
      }
      return calls;
    });
  }

  async #withClient<T>(use: (client: Redis) => Promise<T>): Promise<T> {
    const client = new Redis(this.url, { lazyConnect: true });
    await client.connect();
    try {
      return await use(client);
    } finally {
      client.disconnect();
    }
  }

  /** SIGKILL: the connection drops with no goodbye, as in a crash. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
    this.#process = undefined;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no TCP port");
  return address.port;
}
