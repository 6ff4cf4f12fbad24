// One TCP port for HTTP/1.1 and cleartext HTTP/2. gRPC clients speak HTTP/2
// with prior knowledge; Connect and gRPC-Web clients may use either. Node's
// http2 server falls back to HTTP/1.1 only over TLS (ALPN), so each
// connection is routed here by its first bytes: the HTTP/2 connection preface
// or anything else.

import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, { type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from "node:http2";
import net, { type AddressInfo, type Socket } from "node:net";

const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

// A connection that has not said which protocol it speaks by then is dropped.
const PROTOCOL_SNIFF_TIMEOUT_MS = 10_000;

export type RequestHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

export class DualProtocolListener {
  private readonly tcp: net.Server;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Set<Http2Session>();

  constructor(handler: RequestHandler) {
    const http1 = http.createServer(handler);
    const h2c = http2.createServer(handler);
    h2c.on("session", (session) => {
      this.sessions.add(session);
      session.once("close", () => this.sessions.delete(session));
    });
    this.tcp = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
      routeByPreface(socket, http1, h2c);
    });
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
}

function routeByPreface(socket: Socket, http1: http.Server, h2c: http2.Http2Server): void {
  let received = Buffer.alloc(0);
  const drop = (): void => {
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    received = Buffer.concat([received, chunk]);
    const compared = Math.min(received.length, HTTP2_PREFACE.length);
    const isHttp2 = received.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
    if (isHttp2 && compared < HTTP2_PREFACE.length) return;

    socket.off("data", onData);
    socket.off("error", drop);
    socket.off("timeout", drop);
    socket.setTimeout(0);
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
  socket.on("timeout", drop);
  socket.setTimeout(PROTOCOL_SNIFF_TIMEOUT_MS);
}
