/**
 * @module CRC-32C (Castagnoli), the checksum of every log record, as etcd's WAL uses it.
 * It is part of the log format: `zlib.crc32` (Node 22.2 and later) computes CRC-32 (the IEEE
 * polynomial), a different checksum, so it cannot replace this one; switching would make every
 * existing log read as damaged. A table is a few lines.
 */

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC-32C of `bytes[from, to)`. */
export function crc32c(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = from; i < to; i++) crc = (TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
