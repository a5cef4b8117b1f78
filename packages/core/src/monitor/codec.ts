/**
 * The history chunk codec: the points of one series in one chunk (a time bucket index, then avg,
 * min and max) packed as bits, appendable so the open chunk of every series stays encoded in
 * memory. Times are bucket-index deltas (one bit for "the next bucket"); values are Gorilla's XOR
 * encoding (Facebook's in-memory TSDB, VLDB 2015) over each value's high bits: history keeps 16
 * mantissa bits (relative error below 8e-6, below what a chart or a threshold can tell; integers
 * up to 131,072 stay exact), which turns most changes into a short window of meaningful bits. A bucket whose min and max
 * equal its avg (one sample, or a constant) costs one more bit instead of two values.
 */

/** A history point: bucket start (ms), avg, min, max. */
export type HistoryPoint = [t: number, avg: number, min: number, max: number];

const TWO24 = 2 ** 24;
const scratch = new DataView(new ArrayBuffer(8));

/**
 * The bits history keeps of a float64 — sign, exponent and the top 16 mantissa bits — as
 * [hi 32 bits (low 4 zero), 4 more bits (zero)]: the coder works on 36 bits, so finer history is a
 * one-line change here, at about a byte more per changing value.
 */
function split(v: number): [number, number] {
  scratch.setFloat64(0, v);
  const hi = scratch.getUint32(0);
  // Round to nearest (a carry may move into the exponent: that is the next float up, as it should be).
  return [((hi & 0x8 ? hi + 0x10 : hi) & 0xfffffff0) >>> 0, 0];
}

function join(hi: number, lo4: number): number {
  scratch.setUint32(0, hi);
  scratch.setUint32(4, (lo4 << 28) >>> 0);
  return scratch.getFloat64(0);
}

/** The value as history keeps it (16 mantissa bits). */
export function historyValue(v: number): number {
  const [hi, lo] = split(v);
  return join(hi, lo);
}

class BitWriter {
  buf = new Uint8Array(64);
  bits = 0;
  write(v: number, n: number): void {
    if (n > 24) {
      this.write(Math.floor(v / TWO24), n - 24);
      this.write(v % TWO24, 24);
      return;
    }
    if (((this.bits + n + 7) >> 3) > this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    while (n > 0) {
      const free = 8 - (this.bits & 7);
      const take = free < n ? free : n;
      const part = (v >>> (n - take)) & ((1 << take) - 1);
      this.buf[this.bits >> 3]! |= part << (free - take);
      this.bits += take;
      n -= take;
    }
  }
}

class BitReader {
  pos = 0;
  readonly buf: Uint8Array;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }
  read(n: number): number {
    if (n > 24) return this.read(n - 24) * TWO24 + this.read(24);
    let out = 0;
    while (n > 0) {
      const byte = this.buf[this.pos >> 3];
      if (byte === undefined) throw new Error('chunk data ends early');
      const avail = 8 - (this.pos & 7);
      const take = avail < n ? avail : n;
      out = (out << take) | ((byte >>> (avail - take)) & ((1 << take) - 1));
      this.pos += take;
      n -= take;
    }
    return out >>> 0;
  }
}

function clz36(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + (lo === 0 ? 4 : Math.clz32(lo) - 28);
}
function ctz36(hi: number, lo: number): number {
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  return hi === 0 ? 36 : 4 + 31 - Math.clz32(hi & -hi);
}

/** One value stream's XOR state (previous value and window). */
class XorState {
  hi = 0;
  lo = 0;
  lead = -1;
  trail = 0;
  put(w: BitWriter, v: number): void {
    const [hi, lo] = split(v);
    const xh = (hi ^ this.hi) >>> 0;
    const xl = lo ^ this.lo;
    this.hi = hi;
    this.lo = lo;
    if (xh === 0 && xl === 0) return w.write(0, 1);
    const lead = Math.min(clz36(xh, xl), 31);
    const trail = ctz36(xh, xl);
    const x = xh * 16 + xl;
    if (this.lead >= 0 && lead >= this.lead && trail >= this.trail) {
      w.write(0b10, 2);
      const len = 36 - this.lead - this.trail;
      w.write(Math.floor(x / 2 ** this.trail) % 2 ** len, len);
      return;
    }
    const len = 36 - lead - trail;
    w.write(0b11, 2);
    w.write(lead, 5);
    w.write(len - 1, 6);
    w.write(Math.floor(x / 2 ** trail), len);
    this.lead = lead;
    this.trail = trail;
  }
  get(r: BitReader): number {
    if (r.read(1) === 0) return join(this.hi, this.lo);
    if (r.read(1) === 1) {
      this.lead = r.read(5);
      const len = r.read(6) + 1;
      this.trail = 36 - this.lead - len;
    }
    const len = 36 - this.lead - this.trail;
    const x = r.read(len) * 2 ** this.trail;
    this.hi = (this.hi ^ Math.floor(x / 16)) >>> 0;
    this.lo = this.lo ^ (x % 16);
    return join(this.hi, this.lo);
  }
}

/** An appendable chunk of one series: buckets of `stepMs` from `startMs`. */
export class ChunkEncoder {
  readonly startMs: number;
  readonly stepMs: number;
  count = 0;
  private readonly w = new BitWriter();
  private lastIdx = -1;
  private readonly avg = new XorState();
  private readonly min = new XorState();
  private readonly max = new XorState();
  constructor(startMs: number, stepMs: number) {
    this.startMs = startMs;
    this.stepMs = stepMs;
  }
  /** Append a bucket; buckets must come in time order, inside the chunk (at most 4,096 per chunk). */
  append(t: number, avg: number, min: number, max: number): void {
    const idx = Math.round((t - this.startMs) / this.stepMs);
    if (idx <= this.lastIdx || idx > 4095) throw new Error(`bucket ${idx} out of order in a chunk (last ${this.lastIdx})`);
    if (idx === this.lastIdx + 1) this.w.write(0, 1);
    else {
      this.w.write(1, 1);
      this.w.write(idx - this.lastIdx, 12);
    }
    this.lastIdx = idx;
    this.avg.put(this.w, avg);
    const a = historyValue(avg);
    if (historyValue(min) === a && historyValue(max) === a) this.w.write(0, 1);
    else {
      this.w.write(1, 1);
      this.min.put(this.w, min);
      this.max.put(this.w, max);
    }
    this.count++;
  }
  /** The bytes so far (a copy: the encoder keeps appending). */
  bytes(): Uint8Array {
    return this.w.buf.slice(0, (this.w.bits + 7) >> 3);
  }
  /** Memory held, for accounting. */
  size(): number {
    return this.w.buf.length + 64;
  }
}

/** The points of a chunk of `count` buckets encoded by ChunkEncoder. */
export function decodeChunk(data: Uint8Array, count: number, startMs: number, stepMs: number): HistoryPoint[] {
  const r = new BitReader(data);
  const avg = new XorState();
  const min = new XorState();
  const max = new XorState();
  const out: HistoryPoint[] = new Array(count);
  let idx = -1;
  for (let i = 0; i < count; i++) {
    idx += r.read(1) === 0 ? 1 : r.read(12);
    const a = avg.get(r);
    if (r.read(1) === 0) out[i] = [startMs + idx * stepMs, a, a, a];
    else out[i] = [startMs + idx * stepMs, a, min.get(r), max.get(r)];
  }
  return out;
}
