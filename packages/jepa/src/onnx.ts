// Forecasting through ONNX Runtime: the networks the forecast uses (model.ts), traced into two ONNX graphs, and
// `OnnxRollout`, which runs them in ORT sessions for forecast.ts's shared loop (`forecastWith`). The latents stay
// in ORT tensors from step to step; only each step's probe reading is copied out. What is constant over a
// rollout is computed once, in "encode": the context rows as the predictor's step reads them
// (Predictor.project; tfjs projects them every step, the numbers are the same); and the probe's output on a
// latent serves both its reading and, on the next step, the value pointer (tfjs computes that MLP twice, once
// with its weights frozen for the gradient; the numbers are the same).
//
// Graph "encode": ids [b, N, S] int32 (categorical) or x [b, N, L*S] (real), tokenMask [b, N],
//                 contextIds [b, R, S'] int32 (with a context)
//              -> z0 [b, N, D] (the online encoder); when the predictor reads the context: context [b, R, D]
//                 (its projection of the rows) and values [b, N, R] (the observed values, Probe.observedValues:
//                 the first step reads them exactly).
// Graph "step":   z [b, N, D], tokenMask [b, N], action [b, A] (int32 rows or values; with actions),
//                 context [b, R, D] and values [b, N, R] (reading the context), z0 [b, N, D] (change readout)
//              -> next [b, N, D] (Predictor.step), reading [b, N, S] (the probe's reading of next, as float:
//                 class index, standardised change, or standardised state), nextValues [b, N, R] (reading the context).
import {
  exportOnnx,
  openSession,
  ortTensor,
  type ExportInput,
  type ExportOptions,
  type OrtFeeds,
  type OrtSession,
} from '@worldbench/onnx';
import type { Ops } from '@worldbench/neural';
import type { RolloutInput } from './forecast';
import type { Geometry, Networks } from './model';

/** Which optional inputs and outputs the graphs of these networks have. */
interface GraphFlags {
  /**
   * The predictor reads the context through its pointer token: "encode" outputs the projected rows and the observed
   * values, "step" takes them and outputs the next values.
   */
  context: boolean;
  /** The change readout: "step" takes z0. */
  change: boolean;
}

function flagsOf(nets: Networks): GraphFlags {
  return { context: nets.predictor.context !== null, change: nets.probe.change };
}

/**
 * The "encode" and "step" graphs (see the header) of fitted networks, traced from their `apply`; `trace` wraps the ops
 * the networks are traced with (census.ts records what they read).
 */
export function exportForecastGraphs(
  nets: Networks,
  geometry: Geometry,
  trace: (ops: Ops<string>) => Ops<string> = (ops) => ops,
): { encode: Uint8Array; step: Uint8Array } {
  const { tokens: N, slots: S, lags: L, kind } = geometry.state;
  const R = geometry.context.tokens;
  const D = nets.online.norm.width;
  const flags = flagsOf(nets);
  const names: ExportOptions['modules'] = { online: nets.online, predictor: nets.predictor, probe: nets.probe };
  const encodeInputs: ExportInput[] = [
    kind === 'categorical'
      ? { name: 'ids', shape: ['batch', N, S], dtype: 'int32' }
      : { name: 'x', shape: ['batch', N, L * S] },
    { name: 'tokenMask', shape: ['batch', N] },
    ...(R > 0 ? [{ name: 'contextIds', shape: ['batch', R, 'contextSlots'], dtype: 'int32' } as ExportInput] : []),
  ];
  const encode = exportOnnx(
    (graph) => {
      const ops = trace(graph);
      const outputs: Record<string, string> = {
        z0: nets.online.apply(
          ops,
          kind === 'categorical' ? { ids: 'ids', tokenMask: 'tokenMask' } : { x: 'x', tokenMask: 'tokenMask' },
        ),
      };
      if (flags.context) {
        outputs.context = nets.predictor.project(ops, nets.predictor.embedContext(ops, 'contextIds') as string);
        outputs.values = nets.probe.observedValues(ops, 'ids', R);
      }
      return outputs;
    },
    encodeInputs,
    {
      name: 'jepa-encode',
      docString: 'jepa: last state -> z0 (online encoder), the context as the predictor reads it, the observed values',
      modules: names,
    },
  );
  const action = geometry.action;
  const stepInputs: ExportInput[] = [
    { name: 'z', shape: ['batch', N, D] },
    { name: 'tokenMask', shape: ['batch', N] },
    ...(action
      ? [
          {
            name: 'action',
            shape: ['batch', action.size],
            dtype: action.kind === 'categorical' ? 'int32' : 'float32',
          } as ExportInput,
        ]
      : []),
    ...(flags.context
      ? [
          { name: 'context', shape: ['batch', R, D] } as ExportInput,
          { name: 'values', shape: ['batch', N, R] } as ExportInput,
        ]
      : []),
    ...(flags.change ? [{ name: 'z0', shape: ['batch', N, D] } as ExportInput] : []),
  ];
  const step = exportOnnx(
    (graph) => {
      const ops = trace(graph);
      const next = nets.predictor.step(
        ops,
        'z',
        action ? 'action' : null,
        flags.context ? 'context' : null,
        'tokenMask',
        flags.context ? 'values' : null,
      );
      const output = nets.probe.apply(ops, next, flags.change ? 'z0' : undefined);
      return {
        next,
        reading: nets.probe.read(ops, output),
        ...(flags.context ? { nextValues: nets.probe.values(ops, output, R) } : {}),
      };
    },
    stepInputs,
    {
      name: 'jepa-step',
      docString: 'jepa: one predictor step, the probe reading of its output and its value pointer',
      modules: names,
    },
  );
  return { encode, step };
}

/** The forecast's networks in two ORT sessions; `run` is a RolloutNetworks (forecast.ts). Release with `release()`. */
export class OnnxRollout {
  private constructor(
    private readonly encode: OrtSession,
    private readonly step: OrtSession,
    private readonly geometry: Geometry,
    private readonly flags: GraphFlags,
  ) {}

  static async open(nets: Networks, geometry: Geometry): Promise<OnnxRollout> {
    const graphs = exportForecastGraphs(nets, geometry);
    const encode = await openSession(graphs.encode);
    const step = await openSession(graphs.step).catch(async (e) => {
      await encode.release();
      throw e;
    });
    return new OnnxRollout(encode, step, geometry, flagsOf(nets));
  }

  /** [b, H, N, S]: the probe's reading of every predicted step (see RolloutNetworks). */
  readonly run = async (input: RolloutInput): Promise<Float32Array> => {
    const { tokens: N, slots: S, lags: L } = this.geometry.state;
    const R = this.geometry.context.tokens;
    const A = this.geometry.action?.size ?? 0;
    const { count: b, horizon: H } = input;
    const tokenMask = ortTensor(input.tokenMask, [b, N]);
    const feeds: OrtFeeds = { tokenMask };
    if (input.ids) feeds.ids = ortTensor(input.ids, [b, N, S]);
    if (input.x) feeds.x = ortTensor(input.x, [b, N, L * S]);
    if (input.contextIds) feeds.contextIds = ortTensor(input.contextIds, [b, R, input.contextSlots]);
    const encoded = await this.encode.run(feeds);
    const out = new Float32Array(b * H * N * S);
    let z = encoded.z0;
    let values = encoded.values;
    for (let h = 0; h < H; h++) {
      const step: OrtFeeds = { z, tokenMask };
      if (this.geometry.action) {
        const rows = input.actionsAt(h);
        if (!rows) throw new Error('jepa: this model takes actions; the query has none');
        step.action = ortTensor(rows, [b, A]);
      }
      if (this.flags.context) (step.context = encoded.context), (step.values = values);
      if (this.flags.change) step.z0 = encoded.z0;
      const result = await this.step.run(step);
      z = result.next;
      values = result.nextValues;
      const reading = result.reading.data as Float32Array; //                             [b, N, S]
      for (let i = 0; i < b; i++) out.set(reading.subarray(i * N * S, (i + 1) * N * S), (i * H + h) * N * S);
    }
    return out;
  };

  async release(): Promise<void> {
    await this.encode.release();
    await this.step.release();
  }
}
