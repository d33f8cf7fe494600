import { Writable } from 'node:stream';

/** An in-memory destination for pino: keeps every line it is given, parsed. */
export class MemoryStream extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    for (const line of chunk.toString().split('\n')) if (line !== '') this.lines.push(line);
    callback();
  }

  /** Every record, parsed. */
  get records(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}
