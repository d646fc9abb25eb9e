/**
 * `--html FILE` (conformance/report/html.ts): one self-contained page that a real headless Chromium loads
 * without any network request and without console errors, with the verdict table of every adapter and, per
 * check with cases, its two log-log plots (error against bound, ulps against κ) holding the adapter's points
 * and the honest algorithms' beside them. Written by the CLI with the run's other reports.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import reference from '../../conformance/adapters/reference.js';
import { chromiumPath } from '../../conformance/hosts/browser.js';
import { MUTANTS } from '../../conformance/mutants/gallery.js';
import { buildHtml, compactSvg, loadPlotting } from '../../conformance/report/html.js';
import { runConformance, type RunReport } from '../../conformance/runner.js';
import { BROWSER_SKIP, browserTitle } from './browser_env.js';

const dir = mkdtempSync(join(tmpdir(), 'normcheck-html-'));
const ONLY = 'bn.train.forward,ln.forward,bn.backward.train,bn.train.offset_1e6';
let report: RunReport;
let html: string;

beforeAll(async () => {
  // the reference and the one-pass |E[x²] - E[x]²| mutant: passes, a robust check and failures on one page
  const onePass = MUTANTS.find((m) => m.name === 'accurate-to-offset-1e2')!;
  report = await runConformance([{ adapter: reference, spec: 'reference' }, { adapter: onePass.adapter(), spec: 'accurate-to-offset-1e2' }], { quick: true, seed: 1, only: ONLY });
  html = await buildHtml(report, await loadPlotting());
}, 60_000);

describe('the HTML report', () => {
  it('is self-contained: no script, no external resource, no link off the page', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    // the only absolute URLs are the SVG namespaces (identifiers, never fetched)
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']));
  });

  it('has, per adapter, a verdict row for every check and, per check with cases, one figure with both plots', () => {
    for (const a of report.adapters) {
      for (const c of a.checks) expect(html).toContain(`href="#${a.name}-${c.id}"`);
      const plotted = a.checks.filter((c) => c.points?.length);
      expect(plotted.length).toBeGreaterThan(0);
      for (const c of plotted) expect(html).toMatch(new RegExp(`<figure id="${a.name}-${c.id.replace(/\./g, '\\.')}"><svg`));
    }
    expect(html).toContain('bound at that element');
    expect(html).toContain('κ = max|x| / sqrt(var + eps)');
    expect(html).toMatch(/<td class="robust">robust/);
    expect(html).toMatch(/<td class="fail">fail/);
  });

  it('compacts the SVG without losing a symbol that is not hidden under an identical one', () => {
    const svg = '<g><path transform="translate(1.23,4)" d="M0Z" stroke="#a"/><path transform="translate(1.23,4)" d="M0Z" stroke="#b"/>'
      + '<path transform="translate(2,4)" d="M0Z" stroke="#a"/></g><text opacity="0">1e-9</text><text class="x" fill="#000">1e-8</text>';
    expect(compactSvg(svg)).toBe('<g><path transform="translate(1.2,4)" d="M0Z" stroke="#b"/><path transform="translate(2,4)" d="M0Z" stroke="#a"/></g><text fill="#000">1e-8</text>');
  });
});

describe.skipIf(BROWSER_SKIP !== null)(browserTitle('the HTML report in headless Chromium'), () => {
  let browser: import('playwright-core').Browser | null = null;
  afterAll(async () => {
    await browser?.close();
  });

  it('loads offline, without console errors, with every plot drawn', async () => {
    const file = join(dir, 'page.html');
    writeFileSync(file, html);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    page.on('pageerror', (e) => void errors.push(e.message));
    await page.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.request().url().startsWith('file:') ? route.continue() : route.abort();
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 30_000 });
    // evaluated in the page (a string: the test's own types have no DOM)
    const drawn = await page.evaluate<{ width: number; height: number; symbols: number }[]>(`[...document.querySelectorAll('figure svg')].map((svg) => {
      const box = svg.getBoundingClientRect();
      return { width: box.width, height: box.height, symbols: svg.querySelectorAll('path[transform^="translate"]').length };
    })`);
    const rows = await page.evaluate<number>(`document.querySelectorAll('tbody tr').length`);
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]);
    const plotted = report.adapters.flatMap((a) => a.checks.filter((c) => c.points?.length));
    expect(drawn.length).toBe(plotted.length);
    for (const d of drawn) {
      expect(d.width).toBeGreaterThan(600);
      expect(d.height).toBeGreaterThan(200);
      // at least one adapter point and one honest point per panel
      expect(d.symbols).toBeGreaterThanOrEqual(4);
    }
    expect(rows).toBe(report.adapters.reduce((n, a) => n + a.checks.length, 0));
  }, 60_000);
});

describe('normcheck check --html', () => {
  it('writes the page with the run\'s other reports, and refuses to overwrite a file that is not one', async () => {
    const out = join(dir, 'cli.html');
    const io = { stdout: () => {}, stderr: () => {}, stderrIsTTY: false };
    expect(await runCli(['check', 'reference', '--quick', '--seed', '1', '--only', 'ln.forward', '--html', out], io)).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/<figure id="reference-ln\.forward"><svg/);
    const notOurs = join(dir, 'notes.html');
    writeFileSync(notOurs, '<!doctype html><p>my notes</p>');
    let stderr = '';
    expect(await runCli(['check', 'reference', '--quick', '--only', 'ln.forward', '--html', notOurs], { ...io, stderr: (t) => void (stderr += t) })).toBe(2);
    expect(stderr).toMatch(/--html/);
    expect(readFileSync(notOurs, 'utf8')).toBe('<!doctype html><p>my notes</p>');
  });
});
