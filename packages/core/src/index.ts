// @worldbench/core: the whole public surface.
export { createRng, Rng } from './rng';
export { UserError, isUserError } from './errors';
export {
  configFromDefaults,
  configSchemaOf,
  defineConfig,
  z,
  type ConfigField,
  type ConfigFieldType,
  type ConfigOf,
  type ConfigSchema,
  type DefineConfigOptions,
} from './config-schema';
export {
  forecastViews,
  isCategorical,
  SCENARIO_ID,
  sizeOf,
  specProblems,
  type ScenarioId,
  type ScenarioSpec,
  type StatePlane,
  type StatePlaneAxis,
  type TensorSpec,
} from './spec';
export {
  allocEpisodes,
  block,
  concatEpisodes,
  describeNonFinite,
  episodeCount,
  forEachTransition,
  innerSize,
  lengthOf,
  selectEpisodes,
  sliceSteps,
  stepsPerEpisode,
  tensor,
  transitionArrays,
  transitionCount,
  unravelIndex,
  viewSize,
  type Episodes,
  type Tensor,
} from './data';
export {
  episodeShapes,
  privilegedInfo,
  quietRun,
  worldShapes,
  type ModelScheme,
  type PrivilegedInfo,
  type FitReport,
  type Forecast,
  type GeneralistEpisode,
  type GeneralistModel,
  type GeneralistWorld,
  type ModelCard,
  type Query,
  type RunContext,
  type School,
  type Support,
  type WorldModel,
  type WorldModelModule,
} from './model';
export type { PolicyName, Scenario, Split } from './scenario';
export {
  hypothesisSpaceProblems,
  type FactoredSpace,
  type Hypothesis,
  type HypothesisSpace,
  type LawFamily,
  type ParameterSpec,
  type Transition,
} from './hypotheses';
export {
  addObservationNoise,
  cutEpisode,
  simulateEpisodes,
  trainingEpisodes,
  type Policy,
  type SimulateOptions,
} from './simulate';
export { searchPlans, shiftPlans, type PlanScorer, type PlanSearch } from './planning';
export { cutWindows, forecastWindows, windowStarts, type ForecastWindows } from './windows';
export {
  deltaPsnr,
  learningCurveAuc,
  meanAndStandardError,
  scoreForecast,
  viewStd,
  type HorizonMetrics,
  type ScoreInput,
} from './metrics';
export {
  discoverPlugins,
  findModel,
  findScenario,
  findWorkspaceRoot,
  loadModelModule,
  loadScenario,
  loadSchemeModel,
  schemeEntry,
  workspacePackageDirs,
  type PluginEntry,
  type Registry,
} from './registry';
export { checkScenario, checkWorldModel, ConformanceError } from './conformance';
export { drawDisc } from './frames';
export {
  evaluationSet,
  evaluationWindows,
  jobWorld,
  maskNames,
  metricScale,
  trainingSet,
  type EvaluationSet,
} from './job-data';
export {
  assertForecast,
  assertScored,
  evaluateModel,
  scoreSplit,
  type EvaluateOptions,
  type SplitScore,
} from './evaluate';
