// @worldbench/possible-worlds: the module the runner loads, and the pieces for tools and tests.
import { forecastViews, isCategorical, type WorldModelModule } from '@worldbench/core';
import { possibleWorldsConfig, type PossibleWorldsConfig } from './config';
import { discreteReading } from './discrete';
import { createGeneralist } from './generalist';
import { freshModel, loadModel } from './model';

const module: WorldModelModule<PossibleWorldsConfig> = {
  card: {
    id: 'possible-worlds',
    school: 'possible-worlds',
    summary: 'Explicit candidate laws, each fitted by least squares, selected by evidence (marginal likelihood / BIC).',
    references: [
      'Brunton, Proctor, Kutz 2016: SINDy',
      'MacKay 2003: Information Theory, Inference, and Learning Algorithms, ch. 28',
    ],
  },
  defaults: possibleWorldsConfig.defaults,
  config: possibleWorldsConfig,
  // the oracle: only library=scenario is handed the scenario's hypotheses (and its rows are marked privileged)
  readsPrivileged: (config) => config.library === 'scenario',
  supports(spec, privileged) {
    // real-valued views by search; categorical ones by discrete search where it reads them (discrete.ts), or
    // where the scenario states hypotheses for them (library=scenario)
    const readable = (v: string) =>
      spec.views[v].kind === 'real' ||
      (isCategorical(spec.views[v]) && (privileged?.hypotheses?.view === v || discreteReading(spec, v).reads !== null));
    const views = forecastViews(spec).filter(readable);
    if (views.length) return { views };
    const why = forecastViews(spec).map((v) =>
      spec.views[v].kind === 'image'
        ? `${v}: images are for pixel models`
        : `${v}: ${(discreteReading(spec, v) as { reason: string }).reason}`,
    );
    return {
      views: [],
      reason: `reads real-valued views, and categorical views where discrete search can; ${why.join('; ')}`,
    };
  },
  create: async (spec, view, config, privileged) =>
    freshModel(spec, view, possibleWorldsConfig.resolve(config), privileged?.hypotheses),
  load: async (dir, privileged) => loadModel(dir, privileged?.hypotheses),
  // the generalist protocols: one posterior over worlds across scenarios (generalist.ts); the default search only
  createGeneralist: async (worlds, config) => createGeneralist(worlds, possibleWorldsConfig.resolve(config)),
};
export default module;

export { possibleWorldsConfig, possibleWorldsDefaults, type PossibleWorldsConfig } from './config';
export {
  bayesianRegression,
  bicEvidence,
  logGamma,
  posterior,
  type RegressionFit,
  type RegressionPrior,
} from './evidence';
export { smoothHistory } from './filter';
export { fitRegressionLaw, linearFeatures, sindyFeatures } from './generic';
export { levenbergMarquardt } from './lm';
export { transitionData, type TransitionData } from './transitions';
export type { CandidateWorld } from './worlds';
export { createModel, type PossibleWorldsModel } from './model';
export { createGeneralist } from './generalist';
