/**
 * Mutants of GroupNorm: which channels form a group, and the C % G check.
 */
import { type Groups } from './base.js';
import { mutant, type Mutant } from './mutant.js';

/** Group g holds the channels c with c mod G = g (interleaved), whatever the layout: NCHW only here. */
function stridedGroups(shape: readonly number[], _layout: unknown, numGroups: number): Groups {
  const [N, C] = shape as [number, number];
  const S = shape.reduce((a, b) => a * b, 1) / (N * C);
  const groups: Int32Array[] = [];
  const param = new Int32Array(N * C * S);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < numGroups; g++) {
      const idx: number[] = [];
      for (let c = g; c < C; c += numGroups) for (let s = 0; s < S; s++) idx.push((n * C + c) * S + s);
      groups.push(Int32Array.from(idx));
      for (const i of idx) param[i] = Math.floor(i / S) % C;
    }
  }
  return { groups, param };
}

/** Statistics per (sample, channel), numGroups ignored: InstanceNorm under GroupNorm's name. */
function perChannelGroups(shape: readonly number[]): Groups {
  const [N, C] = shape as [number, number];
  const S = shape.reduce((a, b) => a * b, 1) / (N * C);
  const groups: Int32Array[] = [];
  const param = new Int32Array(N * C * S);
  for (let nc = 0; nc < N * C; nc++) {
    groups.push(Int32Array.from({ length: S }, (_, s) => nc * S + s));
    for (let s = 0; s < S; s++) param[nc * S + s] = nc % C;
  }
  return { groups, param };
}

export const GN_MUTANTS: readonly Mutant[] = [
  // Channels assigned to groups round-robin (c mod G) instead of in consecutive blocks of C/G: what a reshape
  // to (N, C/G, G, ...) instead of (N, G, C/G, ...) computes. Equal to the right grouping only when G = 1 or
  // G = C, so the typical cases (1 < G < C drawn often) and the group-independence relation see it.
  mutant({
    name: 'gn-strided-groups', bugClass: 'GroupNorm groups channels round-robin (c mod G), not in consecutive blocks of C/G',
    seenIn: 'a classic mistake (reshape to (N, C/G, G, …) instead of (N, G, C/G, …))',
    caughtBy: [{ check: 'gn.forward', quantity: 'y' }, 'gn.forward.group_independence'],
    parts: { gnGroups: stridedGroups },
  }),
  // One group per channel whatever numGroups says: InstanceNorm's statistics (and N·C saved statistics where
  // N·G are due, so the failure may name mean or rstd before y).
  mutant({
    name: 'gn-per-channel', bugClass: 'GroupNorm normalises each channel on its own (numGroups ignored)',
    seenIn: 'a classic mistake (InstanceNorm code reused for GroupNorm)',
    caughtBy: ['gn.forward', 'gn.forward.one_group'],
    parts: { gnGroups: (shape) => perChannelGroups(shape) },
  }),
  // No C % G check: C/G channels per group by integer division, the remainder channels silently in no group.
  mutant({
    name: 'gn-accepts-indivisible', bugClass: 'GroupNorm accepts a numGroups that does not divide C and returns a result',
    seenIn: 'a classic mistake (C / G by integer division, no check)',
    caughtBy: ['gn.forward.rejects_indivisible_groups'],
    parts: {
      gnCheckGroups: () => {},
      gnGroups: (shape, _layout, numGroups) => {
        const [N, C] = shape as [number, number];
        const S = shape.reduce((a, b) => a * b, 1) / (N * C);
        const K = Math.floor(C / numGroups);
        const groups: Int32Array[] = [];
        const param = Int32Array.from({ length: N * C * S }, (_, i) => Math.floor(i / S) % C);
        for (let n = 0; n < N; n++) {
          for (let g = 0; g < numGroups; g++) groups.push(Int32Array.from({ length: K * S }, (_, k) => (n * C + g * K) * S + k));
        }
        return { groups, param };
      },
    },
  }),
];
