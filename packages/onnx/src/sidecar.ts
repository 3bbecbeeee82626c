// The sidecar `<model>.worldbench.json` that says what an ONNX world model predicts and how to feed it, and its
// validation against the scenario's spec and the graph's declared shapes. Every mismatch names the field, the
// expected and the found value.
import { existsSync, readFileSync } from 'node:fs';
import { sizeOf, UserError, type ScenarioSpec } from '@worldbench/core';
import type { Dim, GraphInfo, GraphIo } from './graph';

export interface Sidecar {
  format: 'worldbench-onnx-1';
  summary?: string;
  /** Versioned scenario ids the model predicts. */
  scenarios: string[];
  /** The view it forecasts. */
  view: string;
  /** one-step: predicts the next step and the runner rolls it out; multi-step: predicts `horizon` steps at once. */
  mode: 'one-step' | 'multi-step';
  /** K: observed steps the model reads. */
  historySteps: number;
  /** multi-step only: steps predicted per call. */
  horizon?: number;
  inputs: {
    /** [batch, K, ...viewShape] */
    history: string;
    /**
     * one-step: [batch, K, ...actionShape] (the K-1 past actions, then the next one); multi-step: [batch, K-1+horizon,
     * ...].
     */
    actions?: string;
    /** the view's mask [batch, K, ...maskShape], where it has one and the model reads it */
    mask?: string;
    /** context tensors: context name -> input name, [batch, ...contextShape] */
    context?: Record<string, string>;
  };
  outputs: {
    /** one-step: [batch, ...viewShape]; multi-step: [batch, horizon, ...viewShape] */
    prediction: string;
  };
}

export function sidecarPathOf(modelPath: string): string {
  return modelPath.replace(/\.onnx$/i, '') + '.worldbench.json';
}

const fail = (path: string, field: string, expected: string, found: unknown): never => {
  throw new UserError(`onnx sidecar ${path}: ${field}: expected ${expected}, found ${JSON.stringify(found)}`);
};

/** Reads and checks the sidecar's own shape (types and required fields). */
export function readSidecar(modelPath: string): Sidecar {
  const path = sidecarPathOf(modelPath);
  if (!existsSync(path))
    throw new UserError(
      `onnx: no sidecar ${path} beside ${modelPath}; write one that names the scenario, view, mode, historySteps, ` +
        `inputs and outputs (docs/writing-a-model.md, "ONNX models")`,
    );
  let raw: any;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`onnx sidecar ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (raw?.format !== 'worldbench-onnx-1') fail(path, 'format', '"worldbench-onnx-1"', raw?.format);
  if (
    !Array.isArray(raw.scenarios) ||
    raw.scenarios.length === 0 ||
    !raw.scenarios.every((s: unknown) => typeof s === 'string')
  )
    fail(path, 'scenarios', 'a non-empty list of scenario ids', raw.scenarios);
  if (typeof raw.view !== 'string') fail(path, 'view', 'a view name', raw.view);
  if (raw.mode !== 'one-step' && raw.mode !== 'multi-step') fail(path, 'mode', '"one-step" or "multi-step"', raw.mode);
  if (!(Number.isInteger(raw.historySteps) && raw.historySteps >= 1))
    fail(path, 'historySteps', 'an integer >= 1', raw.historySteps);
  if (raw.mode === 'multi-step' && !(Number.isInteger(raw.horizon) && raw.horizon >= 1))
    fail(path, 'horizon', 'an integer >= 1 for a multi-step model', raw.horizon);
  if (typeof raw.inputs?.history !== 'string')
    fail(path, 'inputs.history', 'the name of the graph input that takes the history', raw.inputs?.history);
  for (const k of ['actions', 'mask'] as const)
    if (raw.inputs[k] !== undefined && typeof raw.inputs[k] !== 'string')
      fail(path, `inputs.${k}`, 'an input name', raw.inputs[k]);
  if (typeof raw.outputs?.prediction !== 'string')
    fail(path, 'outputs.prediction', 'the name of the graph output that holds the prediction', raw.outputs?.prediction);
  return raw as Sidecar;
}

function sameShape(expected: number[], found: Dim[] | null): boolean {
  // the first dimension is the batch: any symbolic or concrete size is accepted there
  if (!found) return true; // undeclared shapes are checked when the session runs
  if (found.length !== expected.length + 1) return false;
  return expected.every((d, i) => found[i + 1] === d || typeof found[i + 1] === 'string' || found[i + 1] === null);
}

function graphInput(graph: GraphInfo, path: string, field: string, name: string): GraphIo {
  const found = graph.inputs.find((i) => i.name === name);
  if (!found) fail(path, field, `one of the graph's inputs (${graph.inputs.map((i) => i.name).join(', ')})`, name);
  return found!;
}

/** Checks a sidecar against one scenario's spec and the graph's declared inputs and outputs. */
export function validateSidecar(sidecar: Sidecar, modelPath: string, graph: GraphInfo, spec: ScenarioSpec): void {
  const path = sidecarPathOf(modelPath);
  const view = spec.views[sidecar.view];
  if (!view) fail(path, 'view', `a view of ${spec.id} (${Object.keys(spec.views).join(', ')})`, sidecar.view);
  if (sidecar.historySteps > spec.historySteps)
    fail(
      path,
      'historySteps',
      `at most ${spec.historySteps} (the steps ${spec.id} shows before a forecast)`,
      sidecar.historySteps,
    );
  const K = sidecar.historySteps;
  const check = (field: string, io: GraphIo, shape: number[]) => {
    if (io.elementType !== 'FLOAT')
      fail(path, field, `a float32 tensor ("${io.name}" of type FLOAT)`, `${io.name}: ${io.elementType}`);
    if (!sameShape(shape, io.shape))
      fail(path, field, `"${io.name}" of shape [batch, ${shape.join(', ')}]`, `[${(io.shape ?? []).join(', ')}]`);
  };
  check('inputs.history', graphInput(graph, path, 'inputs.history', sidecar.inputs.history), [K, ...view.shape]);
  const actionSteps = sidecar.mode === 'one-step' ? K : K - 1 + (sidecar.horizon as number);
  if (spec.action) {
    if (!sidecar.inputs.actions)
      fail(
        path,
        'inputs.actions',
        `an input for ${spec.id}'s actions, [batch, ${actionSteps}, ${spec.action.shape.join(', ')}]`,
        undefined,
      );
    check('inputs.actions', graphInput(graph, path, 'inputs.actions', sidecar.inputs.actions!), [
      actionSteps,
      ...spec.action.shape,
    ]);
  } else if (sidecar.inputs.actions)
    fail(path, 'inputs.actions', `nothing: ${spec.id} has no actions`, sidecar.inputs.actions);
  if (sidecar.inputs.mask) {
    if (!view.mask) fail(path, 'inputs.mask', `nothing: view ${sidecar.view} has no mask`, sidecar.inputs.mask);
    check('inputs.mask', graphInput(graph, path, 'inputs.mask', sidecar.inputs.mask), [
      K,
      ...spec.views[view.mask!].shape,
    ]);
  }
  for (const [ctx, name] of Object.entries(sidecar.inputs.context ?? {})) {
    const c = spec.context?.[ctx];
    if (!c)
      fail(
        path,
        `inputs.context.${ctx}`,
        `a context of ${spec.id} (${Object.keys(spec.context ?? {}).join(', ') || 'none'})`,
        ctx,
      );
    check(`inputs.context.${ctx}`, graphInput(graph, path, `inputs.context.${ctx}`, name), [...c!.shape]);
  }
  const fed = new Set(
    [
      sidecar.inputs.history,
      sidecar.inputs.actions,
      sidecar.inputs.mask,
      ...Object.values(sidecar.inputs.context ?? {}),
    ].filter(Boolean),
  );
  const unfed = graph.inputs.filter((i) => !fed.has(i.name));
  if (unfed.length)
    fail(
      path,
      'inputs',
      `every graph input named (the graph also takes ${unfed.map((i) => i.name).join(', ')})`,
      sidecar.inputs,
    );
  const out = graph.outputs.find((o) => o.name === sidecar.outputs.prediction);
  if (!out)
    fail(
      path,
      'outputs.prediction',
      `one of the graph's outputs (${graph.outputs.map((o) => o.name).join(', ')})`,
      sidecar.outputs.prediction,
    );
  check(
    'outputs.prediction',
    out!,
    sidecar.mode === 'one-step' ? [...view.shape] : [sidecar.horizon as number, ...view.shape],
  );
  if (sizeOf(view) === 0) fail(path, 'view', 'a view with at least one element', sidecar.view);
}
