// An ONNX world model: an ONNX Runtime session created once per job (one intra-op thread, one inter-op
// thread, sequential execution: results do not depend on the machine's cores), released in dispose.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  block,
  defineConfig,
  episodeCount,
  forecastViews,
  innerSize,
  sizeOf,
  tensor,
  UserError,
  type Query,
  type ScenarioSpec,
  type Tensor,
  type WorldModel,
  type WorldModelModule,
} from '@worldbench/core';
import { readGraph, type GraphInfo } from './graph';
import { readSidecar, validateSidecar, type Sidecar } from './sidecar';

/** The ONNX Runtime settings of every session (stated in the README). */
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

export const ORT_VERSION: string =
  (ort as { env?: { versions?: { common?: string } } }).env?.versions?.common ?? 'unknown';

/** Copies steps [from, from + n) of each row of a per-step tensor [B, T, ...] into [B, n, ...]. */
function steps(t: Tensor, from: number, n: number): Float32Array {
  const B = t.shape[0],
    inner = innerSize(t, 2);
  const out = new Float32Array(B * n * inner);
  for (let b = 0; b < B; b++) for (let s = 0; s < n; s++) out.set(block(t, b, from + s), (b * n + s) * inner);
  return out;
}

function onnxModel(spec: ScenarioSpec, sidecar: Sidecar, modelPath: string, graph: GraphInfo): WorldModel {
  const view = spec.views[sidecar.view];
  const D = sizeOf(view);
  const A = spec.action ? sizeOf(spec.action) : 0;
  const K = sidecar.historySteps;
  let session: ort.InferenceSession | null = null;
  const open = async () => (session ??= await ort.InferenceSession.create(modelPath, SESSION_OPTIONS));

  return {
    async fit() {
      await open();
      return {
        params: graph.parameters,
        backend: `onnxruntime ${ORT_VERSION}`,
        notes: { pretrained: true, producer: graph.producer },
      };
    },

    async forecast(q: Query) {
      const s = await open();
      const hist = q.history.views[sidecar.view]; // [B, Kq, ...viewShape]
      const B = episodeCount(q.history),
        Kq = hist.shape[1],
        H = q.horizon;
      if (Kq < K) throw new Error(`onnx: the model reads ${K} observed steps, the query has ${Kq}`);
      // a rolling window of the last K observed-or-predicted steps and the actions between them
      const window = steps(hist, Kq - K, K); // [B, K, D]
      // [B, K-1, A]
      const pastActions = q.history.actions ? steps(q.history.actions, Kq - 1 - (K - 1), K - 1) : new Float32Array(0);
      const out = tensor([B, H, ...view.shape]); // [B, H, ...viewShape]
      const feeds = (history: Float32Array, actions: Float32Array, actionSteps: number): Record<string, ort.Tensor> => {
        const f: Record<string, ort.Tensor> = {
          [sidecar.inputs.history]: new ort.Tensor('float32', history, [B, K, ...view.shape]),
        };
        if (sidecar.inputs.actions && spec.action)
          f[sidecar.inputs.actions] = new ort.Tensor('float32', actions, [B, actionSteps, ...spec.action.shape]);
        if (sidecar.inputs.mask && view.mask)
          f[sidecar.inputs.mask] = new ort.Tensor('float32', steps(q.history.views[view.mask], Kq - K, K), [
            B,
            K,
            ...spec.views[view.mask].shape,
          ]);
        for (const [ctx, name] of Object.entries(sidecar.inputs.context ?? {}))
          f[name] = new ort.Tensor('float32', q.history.context[ctx].data.slice(), [B, ...spec.context![ctx].shape]);
        return f;
      };
      const futureAction = (b: number, h: number) => (q.actions ? block(q.actions, b, h) : new Float32Array(A));
      const chunk = sidecar.mode === 'one-step' ? 1 : (sidecar.horizon as number);
      for (let h0 = 0; h0 < H; h0 += chunk) {
        const n = sidecar.mode === 'one-step' ? K : K - 1 + chunk;
        const actions = new Float32Array(B * n * A);
        for (let b = 0; b < B; b++) {
          actions.set(pastActions.subarray(b * (K - 1) * A, (b + 1) * (K - 1) * A), b * n * A);
          for (let j = 0; j < chunk; j++)
            actions.set(futureAction(b, Math.min(h0 + j, H - 1)), (b * n + K - 1 + j) * A);
        }
        const result = await s.run(feeds(window, actions, n));
        const pred = result[sidecar.outputs.prediction];
        const expected = B * chunk * D;
        if (!pred || pred.data.length !== expected)
          throw new Error(
            `onnx: ` +
              `output ${sidecar.outputs.prediction} has ${pred?.data.length ?? 0} values, ` +
              `expected ${expected} ([${B}, ${sidecar.mode === 'one-step' ? '' : `${chunk}, `}${view.shape}])`,
          );
        const data = pred.data as Float32Array;
        const take = Math.min(chunk, H - h0);
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < take; j++)
            block(out, b, h0 + j).set(data.subarray((b * chunk + j) * D, (b * chunk + j + 1) * D));
          // slide: the newest predicted steps join the window, their actions join the past actions
          for (let j = 0; j < take; j++) {
            window.copyWithin(b * K * D, b * K * D + D, (b + 1) * K * D);
            window.set(data.subarray((b * chunk + j) * D, (b * chunk + j + 1) * D), (b * K + K - 1) * D);
            if (K > 1 && A) {
              pastActions.copyWithin(b * (K - 1) * A, b * (K - 1) * A + A, (b + 1) * (K - 1) * A);
              pastActions.set(futureAction(b, h0 + j), (b * (K - 1) + K - 2) * A);
            }
          }
        }
        for (const t of Object.values(result)) t.dispose?.();
      }
      return { mean: out };
    },

    explain: () => ({
      file: modelPath,
      producer: graph.producer,
      opset: graph.opset,
      mode: sidecar.mode,
      historySteps: K,
      summary: sidecar.summary ?? '',
    }),

    async save(dir: string) {
      // nothing learned: the .onnx file and its sidecar are the model; point at them
      writeFileSync(join(dir, 'onnx.json'), JSON.stringify({ modelPath, spec }));
    },

    async dispose() {
      await session?.release();
      session = null;
    },
  };
}

/**
 * The WorldModelModule of one ONNX file: the file is parsed and the sidecar read up front (clear errors, exit 2),
 * and checked against each scenario in `supports`/`create`.
 */
export function onnxModule(path: string): WorldModelModule<Record<string, never>> {
  const modelPath = resolve(path);
  const graph = readGraph(modelPath);
  const sidecar = readSidecar(modelPath);
  const id = `onnx:${path}`;
  const module: WorldModelModule<Record<string, never>> = {
    card: {
      id,
      school: 'external',
      summary: sidecar.summary ?? `ONNX world model ${path} (${graph.producer || 'unknown producer'})`,
      pretrained: true,
    },
    defaults: {},
    // a pretrained file has nothing to tune: an empty table, so any override is refused with the valid keys (none)
    config: defineConfig(id, {}),
    supports(spec) {
      if (!sidecar.scenarios.includes(spec.id))
        return { views: [], reason: `its sidecar names ${sidecar.scenarios.join(', ')}` };
      validateSidecar(sidecar, modelPath, graph, spec); // throws a UserError on any mismatch
      if (!forecastViews(spec).includes(sidecar.view))
        throw new UserError(`onnx sidecar: view ${sidecar.view} is a mask, not a forecast view of ${spec.id}`);
      return { views: [sidecar.view] };
    },
    async create(spec) {
      module.supports(spec);
      return onnxModel(spec, sidecar, modelPath, graph);
    },
    async load(dir: string) {
      const saved = JSON.parse(readFileSync(join(dir, 'onnx.json'), 'utf8'));
      return onnxModel(saved.spec, sidecar, saved.modelPath, graph);
    },
  };
  return module;
}
