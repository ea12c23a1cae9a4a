// SEC_CHANNEL_BINDINGS (sspi.h): the layout Windows callers put in a SECBUFFER_CHANNEL_BINDINGS buffer.
// Eight little-endian ULONGs (address types, lengths and offsets from the start of the struct), then the data.

export interface ChannelBindingsFields {
  initiatorAddrType?: number;
  initiatorAddress?: Uint8Array;
  acceptorAddrType?: number;
  acceptorAddress?: Uint8Array;
  /** For TLS: `tls-server-end-point:` followed by the certificate hash (RFC 5929). */
  applicationData?: Uint8Array;
}

const HEADER = 32;

/** Builds a SEC_CHANNEL_BINDINGS buffer, e.g. `secChannelBindings({ applicationData })`. */
export function secChannelBindings(fields: ChannelBindingsFields): Buffer {
  if (typeof fields !== 'object' || fields === null) throw new TypeError('secChannelBindings: fields must be an object');
  for (const key of ['initiatorAddress', 'acceptorAddress', 'applicationData'] as const) {
    if (fields[key] !== undefined && !(fields[key] instanceof Uint8Array)) throw new TypeError(`secChannelBindings: ${key} must be a Uint8Array`);
  }
  const ini = Buffer.from(fields.initiatorAddress ?? []);
  const acc = Buffer.from(fields.acceptorAddress ?? []);
  const app = Buffer.from(fields.applicationData ?? []);
  const out = Buffer.alloc(HEADER + ini.length + acc.length + app.length);
  let offset = HEADER;
  const put = (at: number, type: number | undefined, data: Buffer | undefined) => {
    if (type !== undefined) out.writeUInt32LE(type >>> 0, at - 4);
    if (!data) return;
    out.writeUInt32LE(data.length, at);
    out.writeUInt32LE(data.length ? offset : 0, at + 4);
    data.copy(out, offset);
    offset += data.length;
  };
  put(4, fields.initiatorAddrType ?? 0, ini);
  put(16, fields.acceptorAddrType ?? 0, acc);
  put(24, undefined, app);
  return out;
}

/**
 * Parses a SEC_CHANNEL_BINDINGS buffer. Returns a reason string when a length or offset points outside the buffer:
 * the caller turns that into a clear error rather than reading out of bounds.
 */
export function parseSecChannelBindings(bytes: Uint8Array): Required<ChannelBindingsFields> | string {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('parseSecChannelBindings: the structure must be a Uint8Array');
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER) return `SEC_CHANNEL_BINDINGS needs at least ${HEADER} bytes, got ${buf.length}`;
  const slice = (lenAt: number, name: string): Buffer | string => {
    const len = buf.readUInt32LE(lenAt);
    const off = buf.readUInt32LE(lenAt + 4);
    if (len === 0) return Buffer.alloc(0);
    if (off < HEADER || off + len > buf.length) return `SEC_CHANNEL_BINDINGS: ${name} lies outside the buffer`;
    return Buffer.from(buf.subarray(off, off + len));
  };
  const initiatorAddress = slice(4, 'the initiator address');
  const acceptorAddress = slice(16, 'the acceptor address');
  const applicationData = slice(24, 'the application data');
  for (const v of [initiatorAddress, acceptorAddress, applicationData]) if (typeof v === 'string') return v;
  return {
    initiatorAddrType: buf.readUInt32LE(0),
    initiatorAddress: initiatorAddress as Buffer,
    acceptorAddrType: buf.readUInt32LE(12),
    acceptorAddress: acceptorAddress as Buffer,
    applicationData: applicationData as Buffer,
  };
}
