import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkWorldModel, evaluateModel, UserError } from '@worldbench/core';
import bouncingBalls from '@worldbench/bouncing-balls';
import hiddenLaws from '@worldbench/hidden-laws';
import { onnxModule } from '../src/index';

const fixture = fileURLToPath(new URL('../fixtures/hidden-laws-mlp.onnx', import.meta.url));
const sidecar = JSON.parse(readFileSync(fixture.replace(/\.onnx$/, '.worldbench.json'), 'utf8'));

/** A copy of the fixture (or other bytes) with a sidecar, in a fresh folder. */
function planted(bytes: Buffer, side: object = sidecar): string {
  const dir = mkdtempSync(join(tmpdir(), 'worldbench-onnx-'));
  writeFileSync(join(dir, 'model.onnx'), bytes);
  writeFileSync(join(dir, 'model.worldbench.json'), JSON.stringify(side));
  return join(dir, 'model.onnx');
}

describe('the PyTorch-exported fixture', () => {
  it('passes checkWorldModel on hidden-laws and says why it does not read other scenarios', async () => {
    const module = onnxModule(fixture);
    expect(await checkWorldModel(module, hiddenLaws)).toEqual(['state']);
    expect(module.supports(bouncingBalls.spec)).toEqual({ views: [], reason: 'its sidecar names hidden-laws-v1' });
    expect(module.card.pretrained).toBe(true);
  });

  it('beats persistence on hidden-laws (dev seed 0): skill >= 0.5 at h = 1 and > 0 at h = 16', async () => {
    const { metrics } = await evaluateModel(onnxModule(fixture), hiddenLaws, { view: 'state', budget: 1, seed: 0 });
    expect(metrics.test.skill['1']).toBeGreaterThanOrEqual(0.5);
    expect(metrics.test.skill['16']).toBeGreaterThan(0);
  });
});

describe('malformed input: each a clear error of its own', () => {
  const bytes = readFileSync(fixture);
  const cases: Array<[string, () => string, RegExp]> = [
    ['a truncated file', () => planted(bytes.subarray(0, 2000)), /ends early: is it truncated/],
    [
      'a file that is not ONNX',
      () => planted(Buffer.from('{"this": "is json, not onnx"}\n'.repeat(10))),
      /not a readable ONNX model|holds no graph/,
    ],
    [
      'a sidecar naming an input the graph does not have',
      () => planted(bytes, { ...sidecar, inputs: { ...sidecar.inputs, history: 'obs' } }),
      /inputs\.history: expected one of the graph's inputs \(history, actions\), found "obs"/,
    ],
    [
      'a sidecar with a wrong view',
      () => planted(bytes, { ...sidecar, view: 'frames' }),
      /view: expected a view of hidden-laws-v1 \(state, frame\), found "frames"/,
    ],
    [
      'a sidecar whose shape disagrees with the graph',
      () => planted(bytes, { ...sidecar, historySteps: 3 }),
      /inputs\.history: expected "history" of shape \[batch, 3, 4\], found "\[batch, 4, 4\]"/,
    ],
    [
      'a sidecar that is not JSON',
      () => {
        const path = planted(bytes);
        writeFileSync(path.replace(/\.onnx$/, '.worldbench.json'), '{ view: state');
        return path;
      },
      /is not valid JSON/,
    ],
    [
      'a missing sidecar',
      () => {
        const dir = mkdtempSync(join(tmpdir(), 'worldbench-onnx-'));
        copyFileSync(fixture, join(dir, 'alone.onnx'));
        return join(dir, 'alone.onnx');
      },
      /no sidecar .*alone\.worldbench\.json/,
    ],
  ];
  it.each(cases)('%s', (_name, make, message) => {
    const path = make();
    const attempt = () => onnxModule(path).supports(hiddenLaws.spec);
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(message);
  });
});
