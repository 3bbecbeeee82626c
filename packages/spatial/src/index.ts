// @worldbench/spatial: a miniature Genie for the bench's image views. The WorldModelModule the runner loads.
import type { ScenarioSpec, Support, WorldModelModule } from '@worldbench/core';
import { forecastViews } from '@worldbench/core';
import { spatialConfig, type SpatialConfig } from './config';
import { SpatialModel } from './world-model';

export { spatialConfig, spatialDefaults, type SpatialConfig } from './config';
export { SpatialModel, geometryOf } from './world-model';
export { normalisedMutualInformation, codebookUsage, actionClasses } from './latent-actions';

function supports(spec: ScenarioSpec): Support {
  const images = forecastViews(spec).filter(
    (v) => spec.views[v].kind === 'image' && (spec.views[v].shape.length === 2 || spec.views[v].shape.length === 3),
  );
  if (images.length) return { views: images };
  const have = forecastViews(spec)
    .map((v) => `${v} (${spec.views[v].kind})`)
    .join(', ');
  return {
    views: [],
    reason:
      `spatial forecasts image views (kind 'image', [H, W] or [H, W, C]) from ` +
      `pixels; ${spec.id} has ${have}: state views are other models'`,
  };
}

const module: WorldModelModule<SpatialConfig> = {
  card: {
    id: 'spatial',
    school: 'spatial',
    summary:
      'A miniature Genie: patch tokens (continuous, or discrete through a VQ tokenizer), a transformer dynamics ' +
      'over the last frames and an action (true, or a latent action learned without labels), rolled out frame ' +
      'by frame.',
    references: [
      'Bruce et al. 2024, Genie: Generative Interactive Environments (arXiv:2402.15391)',
      'Arnab et al. 2021, ViViT (tubelet embedding)',
      'van den Oord et al. 2017, VQ-VAE',
    ],
  },
  defaults: spatialConfig.defaults,
  config: spatialConfig,
  supports,
  create: async (spec, view, config) => {
    const support = supports(spec);
    if (!(support.views as string[]).includes(view))
      throw new Error(
        `spatial cannot ` +
          `forecast view "` +
          `${view}" of ${spec.id}: ${'reason' in support ? support.reason : `it reads ${support.views.join(', ')}`}`,
      );
    return new SpatialModel(spec, view, spatialConfig.resolve(config));
  },
  load: (dir) => SpatialModel.load(dir),
};
export default module;
