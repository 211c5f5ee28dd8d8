// A set of 64-bit hashes in two typed arrays (open addressing, linear probing): ~16 bytes a
// member instead of a JS string key in a Set, so exact deduplication of tens of millions of rows
// fits in memory. The hash halves arrive already uniformly distributed (xxhash bits).
export class HashSet64 {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private used: Uint8Array;
  size = 0;

  constructor(capacity = 1 << 16) {
    let n = 1;
    while (n < capacity * 2) n <<= 1;
    this.hi = new Uint32Array(n);
    this.lo = new Uint32Array(n);
    this.used = new Uint8Array(n);
  }

  /** Adds (hi, lo); returns false when it was already there. */
  add(hi: number, lo: number): boolean {
    if ((this.size + 1) * 2 > this.used.length) this.grow();
    const mask = this.used.length - 1;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
    while (this.used[i]) {
      if (this.hi[i] === hi >>> 0 && this.lo[i] === lo >>> 0) return false;
      i = (i + 1) & mask;
    }
    this.used[i] = 1;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.size++;
    return true;
  }

  private grow(): void {
    const { hi, lo, used } = this;
    this.hi = new Uint32Array(used.length * 2);
    this.lo = new Uint32Array(used.length * 2);
    this.used = new Uint8Array(used.length * 2);
    this.size = 0;
    for (let i = 0; i < used.length; i++) if (used[i]) this.add(hi[i], lo[i]);
  }
}

/** A map from 64-bit keys to int32 values (first value wins), same layout as HashSet64. */
export class HashMap64 {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private val: Int32Array;
  size = 0;

  constructor(capacity = 1 << 16) {
    let n = 1;
    while (n < capacity * 2) n <<= 1;
    this.hi = new Uint32Array(n);
    this.lo = new Uint32Array(n);
    this.val = new Int32Array(n).fill(-1);
  }

  /** Returns the value stored under (hi, lo), storing `value` first when the key is new. */
  getOrSet(hi: number, lo: number, value: number): number {
    if ((this.size + 1) * 2 > this.val.length) this.grow();
    const mask = this.val.length - 1;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
    while (this.val[i] !== -1) {
      if (this.hi[i] === hi >>> 0 && this.lo[i] === lo >>> 0) return this.val[i];
      i = (i + 1) & mask;
    }
    this.val[i] = value;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.size++;
    return value;
  }

  private grow(): void {
    const { hi, lo, val } = this;
    this.hi = new Uint32Array(val.length * 2);
    this.lo = new Uint32Array(val.length * 2);
    this.val = new Int32Array(val.length * 2).fill(-1);
    this.size = 0;
    for (let i = 0; i < val.length; i++) if (val[i] !== -1) this.getOrSet(hi[i], lo[i], val[i]);
  }
}
