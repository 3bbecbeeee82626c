// @worldbench/baselines: the reference rows of every table.
export { default as persistence, type PersistenceConfig } from './persistence';
export { default as linear } from './linear';
export { linearConfig, type LinearConfig } from './config';
export { fitRidge, gramOfColumns, predictRidge, solveSpd, type RidgeFit } from './ridge';
