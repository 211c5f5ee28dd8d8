// The rendezvous's wire format: length-prefixed frames of a JSON header and a binary payload,
//   [u32 header bytes][header JSON][u32 payload bytes][payload]
// so a frame can carry a gradient vector without base64 and a reader never guesses boundaries.
import type { Socket } from 'node:net';

export interface Header {
  t: 'hello' | 'ready' | 'reduce' | 'result' | 'bcast' | 'bye' | 'abort' | 'ping';
  [key: string]: unknown;
}

export interface Frame {
  header: Header;
  payload: Buffer;
}

export function writeFrame(socket: Socket, header: Header, payload: Uint8Array = new Uint8Array(0)): void {
  const h = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(h.length);
  const plen = Buffer.alloc(4);
  plen.writeUInt32BE(payload.byteLength);
  socket.write(Buffer.concat([prefix, h, plen, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)]));
}

/** Calls onFrame for every complete frame arriving on the socket. */
export function readFrames(socket: Socket, onFrame: (f: Frame) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      if (pending.length < 4) return;
      const hl = pending.readUInt32BE(0);
      if (pending.length < 8 + hl) return;
      const pl = pending.readUInt32BE(4 + hl);
      if (pending.length < 8 + hl + pl) return;
      const header = JSON.parse(pending.subarray(4, 4 + hl).toString('utf8')) as Header;
      const payload = Buffer.from(pending.subarray(8 + hl, 8 + hl + pl)); // own copy: `pending` is reused
      pending = pending.subarray(8 + hl + pl);
      onFrame({ header, payload });
    }
  });
}
