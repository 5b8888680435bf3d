/**
 * The first complete WebSocket frame in `data` as a server sends it (unmasked, and from
 * the gateway never fragmented), or undefined if it has not all arrived; `size` is how
 * many bytes of `data` it took. For the hand-written clients of the storm and the tests.
 */
export function serverFrame(data: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (data.length < 2) return undefined;
  let length = data[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (data.length < 4) return undefined;
    length = data.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (data.length < 10) return undefined;
    length = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  if (data.length < offset + length) return undefined;
  return { opcode: data[0]! & 0x0f, payload: data.subarray(offset, offset + length), size: offset + length };
}
