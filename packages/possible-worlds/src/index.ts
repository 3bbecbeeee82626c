// @worldbench/possible-worlds: the module the runner loads, and the pieces for tools and tests.
import { forecastViews, isCategorical, type WorldModelModule } from '@worldbench/core';
import { possibleWorldsDefaults, resolvePossibleWorldsConfig, type PossibleWorldsConfig } from './config';
import { createModel, loadModel } from './model';

const module: WorldModelModule<PossibleWorldsConfig> = {
  card: {
    id: 'possible-worlds',
    school: 'possible-worlds',
    summary: 'Explicit candidate laws, each fitted by least squares, selected by evidence (marginal likelihood / BIC).',
    references: ['Brunton, Proctor, Kutz 2016: SINDy', 'MacKay 2003: Information Theory, Inference, and Learning Algorithms, ch. 28'],
  },
  defaults: possibleWorldsDefaults,
  checkConfig: (config) => void resolvePossibleWorldsConfig(config),
  // the oracle: only library=scenario is handed the scenario's hypotheses (and its rows are marked privileged)
  readsPrivileged: (config) => config.library === 'scenario',
  supports(spec, privileged) {
    // real-valued views by search; categorical ones only where the scenario states hypotheses (library=scenario)
    const views = forecastViews(spec).filter((v) => spec.views[v].kind === 'real' || (isCategorical(spec.views[v]) && privileged?.hypotheses?.view === v));
    if (views.length) return { views };
    return { views: [], reason: 'reads real-valued state views, or categorical views through the scenario\'s hypotheses (library=scenario); images are for pixel models' };
  },
  create: async (spec, view, config, privileged) => createModel({ spec, view, config: resolvePossibleWorldsConfig(config), hypotheses: privileged?.hypotheses, worlds: [], weights: [], library: null, libraryNote: '', batches: [], actCalls: 0, updates: 0, changes: [] }),
  load: async (dir, privileged) => loadModel(dir, privileged?.hypotheses),
};
export default module;

export { possibleWorldsDefaults, resolvePossibleWorldsConfig, type PossibleWorldsConfig } from './config';
export { bayesianRegression, bicEvidence, logGamma, posterior, type RegressionFit, type RegressionPrior } from './evidence';
export { smoothHistory } from './filter';
export { fitRegressionLaw, linearFeatures, sindyFeatures } from './generic';
export { levenbergMarquardt } from './lm';
export { transitionData, type TransitionData } from './transitions';
export type { CandidateWorld } from './worlds';
export { createModel, type PossibleWorldsModel } from './model';
