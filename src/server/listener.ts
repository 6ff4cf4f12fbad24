// One TCP port for HTTP/1.1 and HTTP/2. gRPC clients speak HTTP/2; Connect and
// gRPC-Web clients may use either. Over TLS, ALPN picks the protocol (h2 or
// http/1.1, Node's http2 secure server with allowHTTP1). In cleartext Node's
// http2 server cannot fall back to HTTP/1.1, so each connection is routed here
// by its first bytes: the HTTP/2 connection preface (prior knowledge) or
// anything else.
//
// Every HTTP/2 connection is kept an eye on: the server PINGs it every
// keepalive interval and drops it when a PING goes unanswered for the
// keepalive timeout (a peer gone without a FIN), and closes it (GOAWAY) once it
// has had no stream for the idle timeout.
//
// Every HTTP/1.1 request must have sent its headers within the headers timeout and
// all of its body within the request timeout (else 408 and the connection is closed),
// so that clients trickling bytes (slowloris) cannot hold connections for ever.
//
// HTTP/2 rapid reset (CVE-2023-44487): a client opening streams and resetting them before
// they are answered makes the server do the work of a request for nothing. Each
// connection has a budget of such resets; a connection over it is dropped, and its
// client (address) is suspected for a while: its connections may reset nothing until
// answered. A flood in a cleartext connection's first read is caught by scanning those
// bytes before any HTTP/2 processing (see routeByPreface).

import { setTimeout as sleep } from "node:timers/promises";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, { type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from "node:http2";
import net, { type AddressInfo, type Socket } from "node:net";
import type { Duplex } from "node:stream";

const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

// A connection that has not said which protocol it speaks by then is dropped.
const PROTOCOL_SNIFF_TIMEOUT_MS = 10_000;

// Streams one HTTP/2 connection may have reset by its client before they were answered,
// in a burst and then per second; beyond that the connection is dropped. nghttp2's own
// limit (1000, then 33 a second) ends a flooding connection with a GOAWAY only after
// every stream it had already read.
const RESET_BURST = 50;
const RESETS_PER_SECOND = 10;

// How long a client stays suspected after one of its connections was dropped for rapid
// reset (each drop starts it again). Its new connections start with an empty reset budget
// (refilled as usual): the first stream reset before its answer drops the connection, so a
// flooder reconnecting costs a stream per connection, not a burst. Clients sharing its address that do not
// reset streams (kubelet's probes, other users behind the same NAT) are served as before.
const SUSPECT_MS = 60_000;
// Suspected clients remembered at most; the oldest are forgotten first.
const SUSPECTS_KEPT = 10_000;

const RST_STREAM = 0x3;

// How often HTTP/1.1 connections are checked against the headers and request timeouts;
// a slow connection is closed at most this long after its timeout.
const HTTP1_TIMEOUT_CHECK_MS = 1000;

export type RequestHandler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

export interface ListenerOptions {
  /** PEM certificate chain and private key; absent: cleartext. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** SETTINGS_MAX_CONCURRENT_STREAMS for each HTTP/2 connection. */
  readonly maxConcurrentStreams: number;
  /** Between keepalive PINGs; 0 sends none. */
  readonly keepaliveIntervalMs: number;
  /** A PING unanswered this long drops the connection. */
  readonly keepaliveTimeoutMs: number;
  /** A connection without a stream this long is closed; 0 never. */
  readonly idleTimeoutMs: number;
  /** An HTTP/1.1 request whose headers have not all arrived this long after it began gets 408. */
  readonly http1HeadersTimeoutMs: number;
  /** An HTTP/1.1 request not wholly received (headers and body) this long after it began gets 408. */
  readonly http1RequestTimeoutMs: number;
  /** Takes HTTP/1.1 requests asking to upgrade the connection (WebSocket); absent: they get the handler. */
  readonly upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export class DualProtocolListener {
  private readonly tcp: net.Server;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Set<Http2Session>();
  private readonly suspects = new Suspects();

  constructor(handler: RequestHandler, options: ListenerOptions) {
    const settings = { maxConcurrentStreams: options.maxConcurrentStreams };
    const http1Timeouts = {
      headersTimeout: options.http1HeadersTimeoutMs,
      requestTimeout: options.http1RequestTimeoutMs,
      connectionsCheckingInterval: HTTP1_TIMEOUT_CHECK_MS,
    };
    const track = (socket: Socket): void => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    };
    const http2Handler = skippingResetStreams(handler);
    const onSession = (session: Http2Session): void => {
      this.sessions.add(session);
      session.once("close", () => this.sessions.delete(session));
      superviseSession(session, options, this.suspects);
    };
    if (options.tls) {
      const secure = http2.createSecureServer(
        { ...options.tls, allowHTTP1: true, settings, handshakeTimeout: PROTOCOL_SNIFF_TIMEOUT_MS },
        (req, res) => ("stream" in req ? http2Handler : handler)(req, res),
      );
      // Read by its HTTP/1.1 fallback when it starts listening.
      Object.assign(secure, http1Timeouts);
      secure.on("connection", track);
      secure.on("session", onSession);
      if (options.upgrade) secure.on("upgrade", options.upgrade);
      this.tcp = secure;
    } else {
      const http1 = http.createServer(http1Timeouts, handler);
      // It never listens itself (connections are handed to it), but the headers and request
      // timeouts are only checked once a server has emitted "listening".
      http1.emit("listening");
      if (options.upgrade) http1.on("upgrade", options.upgrade);
      const h2c = http2.createServer({ settings }, http2Handler);
      h2c.on("session", onSession);
      this.tcp = net.createServer((socket) => {
        track(socket);
        routeByPreface(socket, http1, h2c, this.suspects);
      });
    }
  }

  /** Starts listening; resolves with the bound port (useful when port is 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.tcp.once("error", reject);
      this.tcp.listen(port, host, () => {
        this.tcp.off("error", reject);
        resolve((this.tcp.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Stops taking connections and tells HTTP/2 clients (GOAWAY) to open no new
   * streams; calls in progress go on. Resolves once every connection is gone.
   */
  stopAccepting(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const session of this.sessions) session.close();
    return closed;
  }

  /** Drops every connection left, idle HTTP/1.1 keep-alive ones included. */
  destroyConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /**
   * Ends every connection left once what was written to it is out (a FIN after the last
   * bytes: a response whose stream has closed may still have some in the socket), idle
   * HTTP/1.1 keep-alive ones included; resolves once they are closed, or after `ms`.
   */
  async endConnections(ms: number): Promise<void> {
    const closed = [...this.sockets].map((socket) => new Promise((resolve) => socket.once("close", resolve)));
    for (const socket of this.sockets) socket.end();
    await Promise.race([Promise.all(closed), sleep(ms, undefined, { ref: false })]);
  }
}

/**
 * Streams a client may reset before they are answered: a burst, refilled at a steady rate
 * (a client cancelling its calls now and then never runs out; a flood does at once).
 */
class ResetBudget {
  private at = performance.now();

  constructor(private tokens: number) {}

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(RESET_BURST, this.tokens + ((now - this.at) / 1000) * RESETS_PER_SECOND);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Clients (addresses) whose connection was dropped for rapid reset lately. */
class Suspects {
  private readonly until = new Map<string, number>();

  add(address: string | undefined): void {
    if (address === undefined) return;
    const key = clientKey(address);
    this.until.delete(key);
    this.until.set(key, performance.now() + SUSPECT_MS);
    if (this.until.size > SUSPECTS_KEPT) this.until.delete(this.until.keys().next().value!);
  }

  has(address: string | undefined): boolean {
    if (address === undefined) return false;
    const key = clientKey(address);
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > performance.now()) return true;
    this.until.delete(key);
    return false;
  }
}

/** An IPv4 address (mapped ones too) stands for itself; IPv6 for its /64, which one holder usually has whole. */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!net.isIPv6(address)) return address;
  const [head = "", tail] = address.split("%")[0]!.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(":")}::/64`;
}

/** RST_STREAM frames with an error code among the whole frames in `frames` (bytes after the connection preface). */
function countResets(frames: Buffer): number {
  let resets = 0;
  for (let at = 0; at + 9 <= frames.length; at += 9 + frames.readUIntBE(at, 3)) {
    if (frames[at + 3] === RST_STREAM && at + 13 <= frames.length && frames.readUInt32BE(at + 9) !== http2.constants.NGHTTP2_NO_ERROR)
      resets++;
  }
  return resets;
}

/**
 * A stream the client has reset before the handler would start (HTTP/2 rapid reset) never
 * reaches the handler. Node reports a reset as soon as nghttp2 reads it, but emits each
 * stream before reading on, so the handler waits for the rest of the read (setImmediate).
 */
function skippingResetStreams(handler: RequestHandler): RequestHandler {
  return (req, res) => {
    const { stream } = req as Http2ServerRequest;
    setImmediate(() => {
      if (!stream.closed && !stream.destroyed) handler(req, res);
    });
  };
}

function superviseSession(session: Http2Session, options: ListenerOptions, suspects: Suspects): void {
  const { keepaliveIntervalMs, keepaliveTimeoutMs, idleTimeoutMs } = options;
  let keepalive: NodeJS.Timeout | undefined;
  let unanswered: NodeJS.Timeout | undefined;
  let idle: NodeJS.Timeout | undefined;
  let streams = 0;

  if (keepaliveIntervalMs > 0) {
    keepalive = setInterval(() => {
      if (unanswered !== undefined || session.destroyed) return;
      const sent = session.ping(() => {
        clearTimeout(unanswered);
        unanswered = undefined;
      });
      if (sent) unanswered = setTimeout(() => session.destroy(), keepaliveTimeoutMs);
    }, keepaliveIntervalMs);
    keepalive.unref();
  }
  const armIdle = (): void => {
    if (idleTimeoutMs > 0) idle = setTimeout(() => session.close(), idleTimeoutMs).unref();
  };
  const address = session.socket.remoteAddress;
  const resets = new ResetBudget(suspects.has(address) ? 0 : RESET_BURST);
  session.on("stream", (stream) => {
    streams++;
    clearTimeout(idle);
    stream.once("close", () => {
      if (--streams === 0) armIdle();
      // Reset by the client before any answer: what a rapid-reset flood is made of. Node
      // emits this close before nghttp2 reads the next frame (but for a cleartext
      // connection's first read, see routeByPreface), so the connection ends right here.
      if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR && !stream.headersSent && !resets.take() && !session.destroyed) {
        suspects.add(address);
        session.destroy();
      }
    });
  });
  session.once("close", () => {
    clearInterval(keepalive);
    clearTimeout(unanswered);
    clearTimeout(idle);
  });
  armIdle();
}

/**
 * The connection preface decides: HTTP/2 or HTTP/1.1. The bytes read with it (up to 64 KiB)
 * go back to the socket, and Node's HTTP/2 session feeds them to nghttp2 from a nextTick
 * callback, so the stream and close events wait until all of them are processed: a flood
 * there would cost all of its streams (some 600 in 64 KiB) before the reset budget could
 * act. So those bytes are scanned first (frame headers only), and a connection already over
 * its budget in them is dropped before any HTTP/2 processing.
 */
function routeByPreface(socket: Socket, http1: http.Server, h2c: http2.Http2Server, suspects: Suspects): void {
  let received = Buffer.alloc(0);
  const drop = (): void => {
    socket.destroy();
  };
  // A deadline, not an idle timeout: trickling the preface a byte at a time does not extend it.
  const sniffDeadline = setTimeout(drop, PROTOCOL_SNIFF_TIMEOUT_MS);
  const stopSniffing = (): void => clearTimeout(sniffDeadline);
  const onData = (chunk: Buffer): void => {
    received = Buffer.concat([received, chunk]);
    const compared = Math.min(received.length, HTTP2_PREFACE.length);
    const isHttp2 = received.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
    if (isHttp2 && compared < HTTP2_PREFACE.length) return;

    socket.off("data", onData);
    socket.off("error", drop);
    socket.off("close", stopSniffing);
    clearTimeout(sniffDeadline);
    if (isHttp2 && countResets(received.subarray(HTTP2_PREFACE.length)) > (suspects.has(socket.remoteAddress) ? 0 : RESET_BURST)) {
      suspects.add(socket.remoteAddress);
      socket.destroy();
      return;
    }
    socket.pause();
    socket.unshift(received);
    if (isHttp2) {
      // The HTTP/2 session reads the bytes put back itself, on the next tick.
      h2c.emit("connection", socket);
    } else {
      http1.emit("connection", socket);
      socket.resume();
    }
  };
  socket.on("data", onData);
  socket.on("error", drop);
  socket.on("close", stopSniffing);
}
