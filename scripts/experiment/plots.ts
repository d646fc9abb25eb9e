/**
 * The report's figures: vega-lite specs compiled to vega and rendered to SVG in Node (no browser, no canvas:
 * renderer 'none' and View.toSVG()). Each figure shows normcheck and PyTorch side by side.
 *
 *   loss-curves.svg         training loss (mean over seeds) against epochs, one panel per learning rate,
 *                           colour = variant, dash = implementation
 *   accuracy-vs-<axis>.svg  final test accuracy against lr / init scale / batch size, one panel per variant,
 *                           point = mean over seeds, bar = min..max over seeds, colour = implementation
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { type SweepAxis, sweepPoints, SWEEPS, type Variant, VARIANTS, configKey } from './protocol.js';
import type { Summary } from './results.js';

export const VARIANT_LABEL: Record<Variant, string> = { none: 'no norm', batchnorm: 'BatchNorm', layernorm: 'LayerNorm' };
export const AXIS_LABEL: Record<SweepAxis, string> = { lr: 'learning rate', initScale: 'init scale (× default weights)', batchSize: 'batch size' };
const AXIS_FILE: Record<SweepAxis, string> = { lr: 'lr', initScale: 'init', batchSize: 'batch' };

export interface Sources {
  /** Summaries by configKey, one map per implementation name shown in the legend. */
  [implementation: string]: Map<string, Summary>;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const variantColor = {
  field: 'variant', type: 'nominal', title: 'variant', sort: VARIANTS.map((v) => VARIANT_LABEL[v]),
  scale: { domain: VARIANTS.map((v) => VARIANT_LABEL[v]), range: ['#7f7f7f', '#1f77b4', '#d62728'] },
} as const;

/** Loss curves at the default point and the lr sweep: x epochs, y mean training loss (log scale). */
export function lossCurveSpec(sources: Sources, curvePointsPerEpoch: number): TopLevelSpec {
  const values: Record<string, unknown>[] = [];
  for (const [implementation, summaries] of Object.entries(sources)) {
    for (const variant of VARIANTS) {
      for (const config of sweepPoints('lr', variant)) {
        const s = summaries.get(configKey(config));
        s?.meanCurve.forEach((loss, i) => {
          // a diverged run's missing points are left out; losses above 10 are off the chart (chance is ln 10 ≈ 2.3)
          if (loss !== null && loss > 0) values.push({ implementation, variant: VARIANT_LABEL[variant], lr: `lr ${config.lr}`, epoch: (i + 1) / curvePointsPerEpoch, loss: Math.min(loss, 10) });
        });
      }
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Training loss, mean over seeds (init ×1, batch 64)', subtitle: 'each point: mean batch loss over a tenth of an epoch; values above 10 drawn at 10' },
    data: { values },
    facet: { column: { field: 'lr', type: 'ordinal', title: null, sort: SWEEPS.lr.map((v) => `lr ${v}`) } },
    spec: {
      width: 220, height: 200,
      mark: { type: 'line', strokeWidth: 1.5 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: { field: 'loss', type: 'quantitative', title: 'training loss', scale: { type: 'log' } },
        color: variantColor,
        strokeDash: { field: 'implementation', type: 'nominal', title: 'implementation' },
        detail: [{ field: 'implementation' }, { field: 'variant' }],
      },
    },
  } as TopLevelSpec;
}

/** Final test accuracy against one sweep axis: mean (point + line) and min..max (rule) per implementation. */
export function sweepSpec(sources: Sources, axis: SweepAxis): TopLevelSpec {
  const values: Record<string, unknown>[] = [];
  for (const [implementation, summaries] of Object.entries(sources)) {
    for (const variant of VARIANTS) {
      for (const config of sweepPoints(axis, variant)) {
        const s = summaries.get(configKey(config));
        if (s) values.push({ implementation, variant: VARIANT_LABEL[variant], value: String(config[axis]), mean: s.mean, min: s.min, max: s.max });
      }
    }
  }
  const x = { field: 'value', type: 'ordinal', title: AXIS_LABEL[axis], sort: SWEEPS[axis].map(String), axis: { labelAngle: 0 } };
  const color = { field: 'implementation', type: 'nominal', title: 'implementation' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Test accuracy against ${AXIS_LABEL[axis]}`, subtitle: 'point: mean over seeds; bar: min..max over seeds; eval mode' },
    data: { values },
    facet: { column: { field: 'variant', type: 'nominal', title: null, sort: VARIANTS.map((v) => VARIANT_LABEL[v]) } },
    spec: {
      width: 180, height: 200,
      encoding: { x, xOffset: { field: 'implementation', type: 'nominal' }, color },
      layer: [
        { mark: { type: 'rule', strokeWidth: 2 }, encoding: { y: { field: 'min', type: 'quantitative', title: 'test accuracy', scale: { domain: [0, 1] } }, y2: { field: 'max' } } },
        { mark: { type: 'point', filled: true, size: 50 }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
      ],
    },
  } as TopLevelSpec;
}

/** File name of a sweep's figure. */
export function sweepFile(axis: SweepAxis): string {
  return `accuracy-vs-${AXIS_FILE[axis]}.svg`;
}
