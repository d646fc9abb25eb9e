/**
 * A small reader for the golden PyTorch fixtures (fixtures/*.json, format `normcheck-fixture/1`, documented
 * in fixtures/README.md). The CLI cannot import test/, so this is the suite's own reader; it decodes the
 * "whole" tensor encoding only, which is all BatchNorm and LayerNorm fixtures use, and refuses anything else
 * by name.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FixtureTensor {
  shape: number[];
  data: Float64Array;
}

export interface Fixture {
  name: string;
  kind: string;
  description: string;
  settings: Record<string, unknown>;
  tensors: Map<string, FixtureTensor>;
}

export class FixtureFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FixtureFormatError';
  }
}

/** The fixtures directory: the first `fixtures/README.md` found walking up from this module (source or dist/). */
export function findFixturesDir(start = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = start;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'fixtures', 'README.md'))) return join(dir, 'fixtures');
    dir = dirname(dir);
  }
  return null;
}

export function parseFixture(text: string, file: string): Fixture {
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (raw.format !== 'normcheck-fixture/1') throw new FixtureFormatError(`${file}: format: expected "normcheck-fixture/1", got ${JSON.stringify(raw.format)}`);
  const tensors = new Map<string, FixtureTensor>();
  for (const [name, t] of Object.entries(raw.tensors as Record<string, Record<string, unknown>>)) {
    if (!Array.isArray(t.data)) continue; // formula / sampled encodings: not used by BN or LN fixtures
    const shape = t.shape as number[];
    const data = Float64Array.from(t.data as number[]);
    const want = shape.reduce((a, b) => a * b, 1);
    if (data.length !== want) throw new FixtureFormatError(`${file}: tensor ${name}: shape (${shape.join(', ')}) needs ${want} values, has ${data.length}`);
    tensors.set(name, { shape, data });
  }
  return { name: String(raw.name), kind: String(raw.kind), description: String(raw.description), settings: raw.settings as Record<string, unknown>, tensors };
}

/** Every fixture of a kind ('batchnorm', 'layernorm'), sorted by name; [] when the directory is absent. */
export function loadFixtures(kind: string, dir = findFixturesDir()): Fixture[] {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => parseFixture(readFileSync(join(dir, f), 'utf8'), f))
    .filter((fx) => fx.kind === kind);
}

export function tensor(fx: Fixture, name: string): Float64Array {
  const t = fx.tensors.get(name);
  if (!t) throw new FixtureFormatError(`${fx.name}: missing tensor ${name}`);
  return t.data;
}

export function maybeTensor(fx: Fixture, name: string): Float64Array | null {
  return fx.tensors.get(name)?.data ?? null;
}
