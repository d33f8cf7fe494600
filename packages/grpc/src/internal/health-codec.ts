/**
 * The two messages of `grpc.health.v1` in protobuf wire format, by hand, so
 * the health service needs no protobuf library at run time:
 * `HealthCheckRequest { string service = 1; }` and
 * `HealthCheckResponse { ServingStatus status = 1; }`.
 */

/** `grpc.health.v1.HealthCheckResponse.ServingStatus`. */
export const ServingStatus = {
  UNKNOWN: 0,
  SERVING: 1,
  NOT_SERVING: 2,
  SERVICE_UNKNOWN: 3,
} as const;

/** One of the values of {@link ServingStatus}. */
export type ServingStatus = (typeof ServingStatus)[keyof typeof ServingStatus];

/** A decoded `HealthCheckRequest`. */
export interface HealthCheckRequest {
  service: string;
}

/** A decoded `HealthCheckResponse`. */
export interface HealthCheckResponse {
  status: ServingStatus;
}

function readVarint(buf: Buffer, pos: { at: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos.at >= buf.length) throw new RangeError('truncated varint');
    const byte = buf[pos.at++] as number;
    if (shift < 28) result |= (byte & 0x7f) << shift;
    else result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7;
    if (shift > 63) throw new RangeError('varint too long');
  }
}

function skip(buf: Buffer, pos: { at: number }, wireType: number): void {
  switch (wireType) {
    case 0:
      readVarint(buf, pos);
      return;
    case 1:
      pos.at += 8;
      return;
    case 2:
      pos.at += readVarint(buf, pos);
      return;
    case 5:
      pos.at += 4;
      return;
    default:
      throw new RangeError(`unsupported wire type ${wireType}`);
  }
}

/** Decodes a `HealthCheckRequest`; unknown fields are skipped. */
export function decodeRequest(buf: Buffer): HealthCheckRequest {
  const pos = { at: 0 };
  let service = '';
  while (pos.at < buf.length) {
    const tag = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 1 && wireType === 2) {
      const length = readVarint(buf, pos);
      if (pos.at + length > buf.length) throw new RangeError('truncated string');
      service = buf.toString('utf8', pos.at, pos.at + length);
      pos.at += length;
    } else {
      skip(buf, pos, wireType);
    }
  }
  if (pos.at > buf.length) throw new RangeError('truncated message');
  return { service };
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return bytes;
}

/** Encodes a `HealthCheckRequest`. */
export function encodeRequest(request: HealthCheckRequest): Buffer {
  const service = Buffer.from(request.service ?? '', 'utf8');
  if (service.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x0a, ...varint(service.length)]), service]);
}

/** Encodes a `HealthCheckResponse` (proto3: the default `UNKNOWN` is left out). */
export function encodeResponse(response: HealthCheckResponse): Buffer {
  return response.status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, ...varint(response.status)]);
}

/** Decodes a `HealthCheckResponse`; unknown fields are skipped. */
export function decodeResponse(buf: Buffer): HealthCheckResponse {
  const pos = { at: 0 };
  let status = 0;
  while (pos.at < buf.length) {
    const tag = readVarint(buf, pos);
    if (tag === 0x08) status = readVarint(buf, pos);
    else skip(buf, pos, tag & 7);
  }
  return { status: status as ServingStatus };
}
