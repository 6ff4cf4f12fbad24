// Ogg pages (RFC 3533) for one logical bitstream whose packets never span pages.
// A container only; the codec data inside is produced by a codec library.

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0. */
function oggCrc(page: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < page.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ page[i]!) & 0xff]!) >>> 0;
  return crc;
}

/** Most lacing values a page can hold. */
export const MAX_SEGMENTS_PER_PAGE = 255;

/** Lacing values a packet of this size takes: one per 255 bytes, plus a final one below 255. */
export function segmentsFor(packetBytes: number): number {
  return Math.floor(packetBytes / 255) + 1;
}

export class OggPageWriter {
  private sequence = 0;

  constructor(private readonly serial: number) {}

  /**
   * One page holding whole packets. granulePosition is the codec's position after the
   * last packet; bos marks the stream's first page, eos its last.
   */
  page(packets: readonly Uint8Array[], granulePosition: number, flags: { bos?: boolean; eos?: boolean } = {}): Uint8Array {
    const lacing: number[] = [];
    let bodyBytes = 0;
    for (const packet of packets) {
      for (let left = packet.length; ; left -= 255) {
        lacing.push(Math.min(left, 255));
        if (left < 255) break;
      }
      bodyBytes += packet.length;
    }
    if (lacing.length > MAX_SEGMENTS_PER_PAGE) throw new RangeError("too many packets for one Ogg page");

    const page = new Uint8Array(27 + lacing.length + bodyBytes);
    const view = new DataView(page.buffer);
    page.set([0x4f, 0x67, 0x67, 0x53], 0); // "OggS"
    page[4] = 0; // version
    page[5] = (flags.bos ? 0x02 : 0) | (flags.eos ? 0x04 : 0);
    view.setBigInt64(6, BigInt(granulePosition), true);
    view.setUint32(14, this.serial, true);
    view.setUint32(18, this.sequence++, true);
    page[26] = lacing.length;
    page.set(lacing, 27);
    let offset = 27 + lacing.length;
    for (const packet of packets) {
      page.set(packet, offset);
      offset += packet.length;
    }
    view.setUint32(22, oggCrc(page), true); // computed with the field zeroed
    return page;
  }
}
