/** Positioned reads from the trace.dat file, with short reads reported, never hidden. */
import { open, type FileHandle } from 'node:fs/promises';
import { ShortRead } from './bytes.js';

export class FileSource {
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<FileSource> {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      return new FileSource(fh, st.size);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Exactly `n` bytes at `pos` (into `into` when it is big enough); ShortRead if the file ends first. */
  async readAt(pos: number, n: number, into?: Buffer): Promise<Buffer> {
    if (pos < 0 || pos + n > this.size) throw new ShortRead(pos, n, this.size);
    const buf = into !== undefined && into.length >= n ? into.subarray(0, n) : Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await this.fh.read(buf, got, n - got, pos + got);
      if (bytesRead === 0) throw new ShortRead(pos, n, pos + got);
      got += bytesRead;
    }
    return buf;
  }

  /** Up to `n` bytes at `pos` (fewer at the end of the file). */
  async readUpTo(pos: number, n: number): Promise<Buffer> {
    return this.readAt(pos, Math.max(0, Math.min(n, this.size - pos)));
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
