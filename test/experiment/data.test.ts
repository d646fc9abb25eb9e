/**
 * The experiment's data split, protocol arithmetic and seeded streams.
 * Expected counts come from the issue (7,996 train / 2,004 test) and from the package's files themselves.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultDigitsDir, type DigitSplit, loadDigits, PIXELS, readDigitFile } from '../../scripts/experiment/data.js';
import { configKey, configurations, stepsPerEpoch, SWEEPS, VARIANTS } from '../../scripts/experiment/protocol.js';
import { deriveSeed, mulberry32, shuffleInPlace } from '../../scripts/experiment/rng.js';

describe('the MNIST digit split', () => {
  let split: DigitSplit;
  beforeAll(() => {
    split = loadDigits();
  });

  it('holds 7,996 training and 2,004 test images, as issue 7 states', () => {
    expect(split.trainSize).toBe(7996);
    expect(split.testSize).toBe(2004);
    expect(split.trainX.length).toBe(7996 * PIXELS);
    expect(split.testX.length).toBe(2004 * PIXELS);
  });

  it('takes the first floor(0.8·n) images of each digit file for training and the rest for testing', () => {
    for (let d = 0; d < 10; d++) {
      // raw file, parsed independently of the loader
      const raw = (JSON.parse(readFileSync(join(defaultDigitsDir(), `${d}.json`), 'utf8')) as { data: number[] }).data;
      const n = raw.length / PIXELS;
      const nTrain = Math.floor(0.8 * n);
      expect(split.trainPerDigit[d]).toBe(nTrain);
      expect(split.testPerDigit[d]).toBe(n - nTrain);
      // the digit's first training row is the file's image 0; its first test row is image nTrain
      const trainOffset = split.trainPerDigit.slice(0, d).reduce((a, b) => a + b, 0);
      const testOffset = split.testPerDigit.slice(0, d).reduce((a, b) => a + b, 0);
      const row = (x: Float32Array, r: number) => Array.from(x.subarray(r * PIXELS, (r + 1) * PIXELS));
      expect(row(split.trainX, trainOffset)).toEqual(raw.slice(0, PIXELS).map(Math.fround));
      expect(row(split.testX, testOffset)).toEqual(raw.slice(nTrain * PIXELS, (nTrain + 1) * PIXELS).map(Math.fround));
      expect(split.trainY[trainOffset]).toBe(d);
      expect(split.trainY[trainOffset + nTrain - 1]).toBe(d);
      expect(split.testY[testOffset + n - nTrain - 1]).toBe(d);
    }
  });

  it('keeps pixel values in [0, 1] and labels in 0..9', () => {
    const range = (a: ArrayLike<number>) => {
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < a.length; i++) {
        min = Math.min(min, a[i]!);
        max = Math.max(max, a[i]!);
      }
      return [min, max];
    };
    // MNIST images have black background (0) and saturated strokes (1) somewhere
    expect(range(split.trainX)).toEqual([0, 1]);
    expect(range(split.testX)).toEqual([0, 1]);
    expect(range(split.trainY)).toEqual([0, 9]);
    expect(range(split.testY)).toEqual([0, 9]);
  });

  it('refuses a digit file that is not a whole number of images, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'normcheck-digits-'));
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ data: new Array(PIXELS + 1).fill(0) }));
    expect(() => readDigitFile(path)).toThrow(/bad\.json: expected a whole number of 784-pixel images, got 785 values/);
  });

  it('refuses a pixel outside [0, 1], naming the pixel and its image', () => {
    const dir = mkdtempSync(join(tmpdir(), 'normcheck-digits-'));
    const path = join(dir, 'bright.json');
    const data = new Array(2 * PIXELS).fill(0);
    data[PIXELS + 3] = 255;
    writeFileSync(path, JSON.stringify({ data }));
    expect(() => readDigitFile(path)).toThrow(/pixel 787 \(image 1\) is 255, expected a number in \[0, 1\]/);
  });
});

describe('the protocol', () => {
  it('has 7 distinct configurations per variant: the default point and three one-axis sweeps of three values', () => {
    const all = configurations();
    expect(all).toHaveLength(7 * VARIANTS.length);
    expect(new Set(all.map(configKey)).size).toBe(all.length);
    for (const axis of Object.keys(SWEEPS) as (keyof typeof SWEEPS)[]) {
      for (const value of SWEEPS[axis]) expect(all.some((c) => c[axis] === value)).toBe(true);
    }
  });

  it('never makes a batch of one sample at the swept batch sizes: 7996 = 124·64 + 60 = 999·8 + 4 = 3998·2', () => {
    expect(stepsPerEpoch(7996, 64)).toBe(125);
    expect(stepsPerEpoch(7996, 8)).toBe(1000);
    expect(stepsPerEpoch(7996, 2)).toBe(3998);
  });

  it('refuses a batch size that would leave a last batch of one sample, or a batch size below 2', () => {
    expect(() => stepsPerEpoch(7997, 2)).toThrow(/last batch of 7997 samples would hold 1; BatchNorm in training mode needs 2/);
    expect(() => stepsPerEpoch(7996, 1)).toThrow(/batchSize: expected an integer >= 2/);
  });
});

describe('the seeded streams', () => {
  it('shuffle to a permutation, the same one for the same seed', () => {
    const order = (seed: number) => {
      const o = Uint32Array.from({ length: 1000 }, (_, i) => i);
      shuffleInPlace(o, mulberry32(seed));
      return o;
    };
    const a = order(7);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(order(7)).toEqual(a);
    expect(order(8)).not.toEqual(a);
  });

  it('derive different seeds for different runs and streams', () => {
    const seeds = new Set<number>();
    for (let s = 0; s < 100; s++) for (let stream = 0; stream < 2; stream++) seeds.add(deriveSeed(s, stream));
    expect(seeds.size).toBe(200);
  });
});
