/**
 * The documentation says what the catalog holds: conformance/README.md's check tables are the ones
 * scripts/docs/check_table.ts generates from CHECKS (rewrite them with `node dist/scripts/docs/check_table.js
 * --write`), and README.md's check counts are the catalog's.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../conformance/catalog.js';
import { NORMS } from '../../conformance/norms/index.js';
import { BEGIN, END, FEATURES_BEGIN, FEATURES_END, checkTables, featureTable, readmePath } from '../../scripts/docs/check_table.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('the check tables of conformance/README.md', () => {
  const readme = readFileSync(readmePath(), 'utf8');

  it('are the generated ones (node dist/scripts/docs/check_table.js --write rewrites them)', () => {
    const section = readme.slice(readme.indexOf(BEGIN) + BEGIN.length, readme.indexOf(END)).trim();
    expect(section).toBe(checkTables());
  });

  it('list every check once, one table per norm and one for the checks that span norms', () => {
    const section = readme.slice(readme.indexOf(BEGIN), readme.indexOf(END));
    const ids = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(ids).toEqual([...NORMS.flatMap((n) => CHECKS.filter((c) => c.norm === n.id)), ...CHECKS.filter((c) => c.norm === null)].map((c) => c.id));
    expect(new Set(ids).size).toBe(CHECKS.length);
  });
});

describe('the feature table of conformance/README.md', () => {
  it('is the one list of conformance/features.ts (node dist/scripts/docs/check_table.js --write rewrites it)', () => {
    const readme = readFileSync(readmePath(), 'utf8');
    expect(readme.slice(readme.indexOf(FEATURES_BEGIN) + FEATURES_BEGIN.length, readme.indexOf(FEATURES_END)).trim()).toBe(featureTable());
  });
});

describe('README.md', () => {
  it('states the catalog\'s number of checks wherever it counts them', () => {
    const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const counts = [...text.matchAll(/\b(?:the|all) (\d+) (?:checks|with their descriptions)/g)].map((m) => Number(m[1]));
    expect(counts.length).toBeGreaterThan(0);
    expect(counts).toEqual(counts.map(() => CHECKS.length));
  });
});
