/**
 * An allocation counter for the "no allocation per call" tests: counts every typed array and ArrayBuffer
 * constructed (new, .from, .of: all go through the constructor, which the kernels look up on the global object at
 * each call) and every view made with subarray, while `body` runs. A GC cannot hide an allocation from this
 * count, as it can from memoryUsage(). The constructors and `subarray` are restored afterwards, also on a throw.
 */
export function countTypedArrays(body: () => void): number {
  let count = 0;
  const g = globalThis as unknown as Record<string, unknown>;
  const names = ['Float32Array', 'Float64Array', 'Int32Array', 'Uint8Array', 'ArrayBuffer'] as const;
  const originals = names.map((n) => g[n] as { prototype: { subarray?: (...a: number[]) => unknown } });
  const subarrays = originals.map((c) => c.prototype.subarray);
  try {
    names.forEach((n, k) => {
      const ctor = originals[k]!;
      g[n] = new Proxy(ctor as object, {
        construct: (t, args, nt) => (count++, Reflect.construct(t as new (...a: unknown[]) => object, args, nt)),
      });
      const sub = subarrays[k];
      if (sub) ctor.prototype.subarray = function (this: unknown, ...a: number[]) { count++; return sub.apply(this, a); };
    });
    body();
  } finally {
    names.forEach((n, k) => {
      g[n] = originals[k];
      if (subarrays[k]) originals[k]!.prototype.subarray = subarrays[k];
    });
  }
  return count;
}
