// persistence: the next observation is the last one. The skill reference of every table (skill 0 by
// definition) and the pipeline's dummy model.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  block,
  defineConfig,
  episodeCount,
  forecastViews,
  tensor,
  type ConfigOf,
  type WorldModel,
  type WorldModelModule,
} from '@worldbench/core';

/** Persistence has nothing to tune. */
export const persistenceConfig = defineConfig('persistence', {});
export type PersistenceConfig = ConfigOf<typeof persistenceConfig>;

function persistence(view: string): WorldModel {
  return {
    async fit() {
      return { params: 0, backend: 'js' };
    },
    async forecast(q) {
      const hist = q.history.views[view]; // [B, K, ...viewShape]
      const B = episodeCount(q.history);
      const K = hist.shape[1];
      const out = tensor([B, q.horizon, ...hist.shape.slice(2)]); // [B, H, ...viewShape]
      for (let b = 0; b < B; b++) for (let h = 0; h < q.horizon; h++) block(out, b, h).set(block(hist, b, K - 1));
      return { mean: out };
    },
    async save(dir) {
      writeFileSync(join(dir, 'persistence.json'), JSON.stringify({ view }));
    },
  };
}

const module: WorldModelModule<PersistenceConfig> = {
  card: {
    id: 'persistence',
    school: 'baseline',
    summary: 'Copies the last observation forward: the reference every skill is measured against.',
  },
  defaults: persistenceConfig.defaults,
  config: persistenceConfig,
  supports: (spec) => ({ views: forecastViews(spec) }),
  create: async (_spec, view) => persistence(view),
  // the one model that is trivially the same on every world: it copies the last observation of whichever world a
  // window comes from, needing neither the data nor the world's name (its transfer gain is 0 by construction: the
  // pipeline's dummy for the generalist protocols)
  createGeneralist: async (worlds) => {
    const copy = persistence(worlds[0].view);
    return { fit: async () => ({ params: 0, backend: 'js' }), forecast: (q, _world, run) => copy.forecast(q, run) };
  },
  load: async (dir) => persistence(JSON.parse(readFileSync(join(dir, 'persistence.json'), 'utf8')).view),
};
export default module;
