// A candidate world as the model holds it: a fitted law that steps a state, its evidence, and its noise.
import type { Transition } from '@worldbench/core';
import type { StepFn } from './filter';
import {
  describeLaw,
  fitRegressionLaw,
  linearFeatures,
  predictChange,
  sindyFeatures,
  type EvidenceKind,
  type FittedRegressionLaw,
} from './generic';
import type { TransitionData } from './transitions';
import { fitBox, reflect, type FittedBox } from './box';

export interface CandidateWorld {
  id: string;
  /** Human-readable law with its fitted parameters. */
  statement: string;
  /** Free parameters fitted (for BIC and the explain table). */
  k: number;
  logEvidence: number;
  /** Residual (process + observation) noise variance per dimension, from the fit. */
  noiseVariance: Float64Array;
  /** Whether a step reads x_{t-1} as well as x_t. */
  usesPrevious: boolean;
  step: StepFn;
  /**
   * A step specialised to one window (per-episode parameters inferred in context from its history), where the law has
   * any.
   */
  inContext?(obs: Float64Array[], actions: Float64Array[], context: Record<string, Float32Array>): StepFn;
  /**
   * Per-episode parameters a filter may estimate jointly with the history's states (stepWith(theta) is the law under
   * theta).
   */
  episodeParams?: { mean: Float64Array; std: Float64Array; stepWith(theta: ArrayLike<number>): StepFn };
  /**
   * log p(held-out data | this world, what training taught it): per-episode parameters integrated over the
   * training episodes' spread, noise at its fitted level. Scenario worlds only (they know the data's episodes).
   */
  heldOutLogLik?(byEpisode: Transition[][]): number;
  /** Extra explain() fields: fitted parameters with uncertainty, undetermined parts. */
  details?(): Record<string, unknown>;
  /** Serialisable form, restored by the library that made it. */
  toJSON(): unknown;
}

export const GENERIC_IDS = ['persistence', 'constant-velocity', 'linear', 'sparse-nonlinear', 'box'] as const;

function fromRegression(law: FittedRegressionLaw, D: number, A: number): CandidateWorld {
  const scratch = new Float64Array(law.library?.names.length ?? 0);
  const step: StepFn = (prev, cur, action) => predictChange(law, prev, cur, action, new Float64Array(D), scratch);
  return {
    id: law.id,
    statement: describeLaw(law),
    k: law.k,
    logEvidence: law.logEvidence,
    noiseVariance: Float64Array.from(law.dims, (d) => d.noiseVariance),
    usesPrevious: law.offset === 'velocity',
    step,
    toJSON: () => ({
      kind: 'generic',
      id: law.id,
      D,
      A,
      offset: law.offset,
      featureMean: Array.from(law.featureMean),
      featureStd: Array.from(law.featureStd),
      featureLo: Array.from(law.featureLo),
      featureHi: Array.from(law.featureHi),
      dims: law.dims.map((d) => ({
        support: Array.from(d.support),
        coef: Array.from(d.coef),
        noiseVariance: d.noiseVariance,
        logEvidence: d.logEvidence,
        n: d.n,
      })),
      k: law.k,
      logEvidence: law.logEvidence,
    }),
  };
}

/** The box world: the linear law's step, then reflection at the walls. */
function fromBox(box: FittedBox, D: number, A: number): CandidateWorld {
  const linear = fromRegression(box.law, D, A);
  const walls = box.pairs
    .map((p) => `d${p.position} in [${p.lo.toPrecision(3)}, ${p.hi.toPrecision(3)}] (rate d${p.rate})`)
    .join(', ');
  return {
    ...linear,
    id: 'box',
    statement: `${linear.statement}; reflected at walls ${walls}, restitution ${box.restitution.toFixed(3)}`,
    k: box.k,
    logEvidence: box.logEvidence,
    step: (prev, cur, action) => {
      const next = linear.step(prev, cur, action);
      reflect(next, box.pairs, box.restitution);
      return next;
    },
    toJSON: () => ({
      ...(linear.toJSON() as object),
      id: 'box',
      k: box.k,
      logEvidence: box.logEvidence,
      pairs: box.pairs,
      restitution: box.restitution,
      wallVariance: Array.from(box.wallVariance),
    }),
  };
}

function libraryFor(id: string, D: number, A: number) {
  return id === 'linear' || id === 'box'
    ? linearFeatures(D, A)
    : id === 'sparse-nonlinear'
      ? sindyFeatures(D, A)
      : null;
}

/** Fits the generic library to transitions of any real-valued view. */
export function fitGenericWorlds(
  data: TransitionData,
  evidence: EvidenceKind,
  only: Set<string> | null = null,
): CandidateWorld[] {
  const { D, A } = data;
  const ids = GENERIC_IDS.filter((id) => !only || only.has(id));
  if (ids.length === 0)
    throw new Error(`possible-worlds: candidates matches none of the generic library (${GENERIC_IDS.join(', ')})`);
  return ids.flatMap((id) => {
    if (id !== 'box')
      return [
        fromRegression(
          fitRegressionLaw(id, data, id === 'constant-velocity' ? 'velocity' : 'none', libraryFor(id, D, A), {
            sparse: id === 'sparse-nonlinear',
            evidence,
          }),
          D,
          A,
        ),
      ];
    const box = fitBox(data, evidence); // null: no dimension has a rate, so there are no walls to find
    return box ? [fromBox(box, D, A)] : [];
  });
}

/** Restores a generic world from its toJSON(). */
export function genericWorldFromJSON(json: any): CandidateWorld {
  const law: FittedRegressionLaw = {
    id: json.id,
    offset: json.offset,
    library: libraryFor(json.id, json.D, json.A),
    featureMean: Float64Array.from(json.featureMean),
    featureStd: Float64Array.from(json.featureStd),
    featureLo: Float64Array.from(json.featureLo),
    featureHi: Float64Array.from(json.featureHi),
    dims: json.dims.map((d: any) => ({
      support: Int32Array.from(d.support),
      coef: Float64Array.from(d.coef),
      noiseVariance: d.noiseVariance,
      logEvidence: d.logEvidence,
      n: d.n,
    })),
    k: json.k,
    logEvidence: json.logEvidence,
  };
  if (json.id !== 'box') return fromRegression(law, json.D, json.A);
  const box: FittedBox = {
    law,
    pairs: json.pairs,
    restitution: json.restitution,
    wallVariance: Float64Array.from(json.wallVariance),
    k: json.k,
    logEvidence: json.logEvidence,
  };
  return fromBox(box, json.D, json.A);
}
