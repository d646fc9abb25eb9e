/**
 * "Did you mean …?" for names a user typed: built-in adapters, fields of the adapter contract.
 */

/** Levenshtein distance: insertions, deletions and substitutions, one each. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The names closest to a mistyped one: those within a third of its length in edits (typos,
 * `tfjs_cpu`, `ort-nod`), else those that contain it or that it contains (`tfjs`, `onnx-ort-web`); best first.
 */
export function closestNames(spec: string, names: readonly string[]): string[] {
  const s = spec.toLowerCase();
  const scored = names.map((n) => ({ n, d: editDistance(s, n) })).filter(({ d }) => d <= Math.max(2, Math.floor(s.length / 3)));
  if (scored.length) return scored.sort((a, b) => a.d - b.d).slice(0, 3).map(({ n }) => n);
  return names.filter((n) => n.includes(s) || s.includes(n)).slice(0, 4);
}

/**
 * The known name `key` is a near miss of, or null: equal but for case, `_` and `-` (`Precision`,
 * `run_var`), or at most two edits away from a name of five or more letters (`precison`, `lnFoward`,
 * `bnTrainForwards`). Shorter names are left alone: `eps` is two edits from `ep`, `x`, `epsilon`-like noise.
 */
export function nearMiss(key: string, known: readonly string[]): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  let best: { name: string; d: number } | null = null;
  for (const name of known) {
    if (name === key) return null;
    if (norm(name) === norm(key)) return name;
    if (name.length < 5) continue;
    const d = editDistance(key.toLowerCase(), name.toLowerCase());
    if (d <= 2 && (!best || d < best.d)) best = { name, d };
  }
  return best?.name ?? null;
}
