import { Transform, type TransformCallback } from 'node:stream';

/**
 * A pass-through that counts the bytes flowing by and reports them at most
 * every `intervalMs`, so a trail row is not rewritten for every 64 KiB chunk.
 */
export class ByteCounter extends Transform {
  bytes = 0;
  #lastReport = 0;
  readonly #onProgress: ((bytes: number) => void) | undefined;
  readonly #intervalMs: number;
  readonly #limit: { readonly bytes: number; readonly error: () => Error } | undefined;

  /** `limit`: fail the stream with `error()` as soon as more than `bytes` went by. */
  constructor(options: { onProgress?: (bytes: number) => void; intervalMs?: number; limit?: { bytes: number; error: () => Error } } = {}) {
    super();
    this.#onProgress = options.onProgress;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#limit = options.limit;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.#limit && this.bytes > this.#limit.bytes) {
      callback(this.#limit.error());
      return;
    }
    if (this.#onProgress) {
      const now = Date.now();
      if (now - this.#lastReport >= this.#intervalMs) {
        this.#lastReport = now;
        this.#onProgress(this.bytes);
      }
    }
    callback(null, chunk);
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
