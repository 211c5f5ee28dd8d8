// A map from 64-bit hashes to row numbers, and a set of 64-bit hashes, in one typed array (open
// addressing, linear probing): 12 bytes a slot instead of a JS string key in a Map, so exact and
// near deduplication of tens of millions of rows fit in memory. Each slot's key halves and value
// sit side by side, so a probe touches one cache line (with three parallel arrays it touched three:
// near dedup looks 14 band keys up per row); the table grows at 3/4 full (16 bytes a key on
// average). The hash halves arrive already uniformly distributed (xxhash bits).

/** A map from 64-bit keys to non-negative int32 values (first value wins). */
export class HashMap64 {
  // slot i: [hi, lo, value + 1] at 3i; value + 1 = 0 marks an empty slot
  private slots: Uint32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    let n = 1;
    while (n * 3 < capacity * 4) n <<= 1;
    this.slots = new Uint32Array(3 * n);
    this.mask = n - 1;
  }

  /** Returns the value stored under (hi, lo), storing `value` (>= 0) first when the key is new. */
  getOrSet(hi: number, lo: number, value: number): number {
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) this.grow();
    const s = this.slots;
    hi >>>= 0;
    lo >>>= 0;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    while (s[3 * i + 2] !== 0) {
      if (s[3 * i] === hi && s[3 * i + 1] === lo) return s[3 * i + 2] - 1;
      i = (i + 1) & this.mask;
    }
    s[3 * i] = hi;
    s[3 * i + 1] = lo;
    s[3 * i + 2] = value + 1;
    this.size++;
    return value;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(2 * old.length);
    this.mask = 2 * (this.mask + 1) - 1;
    this.size = 0;
    for (let j = 0; j < old.length; j += 3) if (old[j + 2] !== 0) this.getOrSet(old[j], old[j + 1], old[j + 2] - 1);
  }
}

/** A set of 64-bit hashes (a HashMap64 whose values are not used). */
export class HashSet64 {
  private map = new HashMap64();

  get size(): number {
    return this.map.size;
  }

  /** Adds (hi, lo); returns false when it was already there. */
  add(hi: number, lo: number): boolean {
    const before = this.map.size;
    this.map.getOrSet(hi, lo, 0);
    return this.map.size > before;
  }
}
