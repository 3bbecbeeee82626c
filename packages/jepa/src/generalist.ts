// One jepa of several worlds (the generalist protocols, docs/protocols.md): one encoder, one predictor and one
// probe over a common token space (token-space.ts), trained once on every world's data. Every world's state becomes
// tokens of one width (`width`) made of shared values: a categorical value u at slot j of a token is values[u] ⊙
// slots[j] (grids by patches), a real element's value and history real[1 + l] ⊙ slots[j]; the program, where a world
// has one, is made of the same categorical values and read by its pointer token as in the specialist; the probe reads
// through a shared query layer against keys bound the same way. The trunk (model.ts `Trunk`: the value embeddings and
// the readout, the encoder's and predictor's blocks and norms, the predictor's position map and output projection,
// the probe's hidden layer) is the same module instances in every world's networks, each read whole by every world
// (census.ts counts what each reads); per world is only what the data's shapes force: the slots its tables bind, its
// token positions, the action's embedding or map, the pointer's read of the program, the change readout's gains, the
// probe's output bias (world-groups.ts says who shares those):
//   told (--tell-world)   each world its own: the world's index picks them, which is what a world embedding would
//                         add and more;
//   not told              each shape its own: worlds of the same shapes share everything, and a window is read by
//                         the networks of its shapes.
// Grids of more than 36 cells are read by patches (gridEncoder 'patches'): read cell by cell, a grid's blocks would
// have another width (cellWidth) and local mixing, which no other world could share.
// Training (train.ts `trainWorlds`): each step a batch of one world and that world's jepaLoss, the worlds in a seeded
// order where each one's share of the steps is its steps per pass (windows / batch: every world sees its windows as
// often as the others and as its specialist would); one Adam over the union of the weights, one EMA target of the
// shared encoder. The forecasts are a specialist's (forecastWith) on the world's networks.
import {
  concatEpisodes,
  createRng,
  episodeShapes,
  isCategorical,
  sizeOf,
  type Episodes,
  type FitReport,
  type Forecast,
  type GeneralistEpisode,
  type GeneralistModel,
  type GeneralistWorld,
  type Query,
} from '@worldbench/core';
import { initBackend, type tf } from '@worldbench/neural';
import { onnxForecastBackend } from '@worldbench/onnx';
import { actionRowsSeen, buildTrainingSet, disposeTrainingSet, type TrainingSet } from './batch';
import { parameterCensus, type ParameterCensus } from './census';
import { jepaConfig, type JepaConfig } from './config';
import { latentDiagnostics, type LatentDiagnostics } from './diagnostics';
import { forecastWith, tfjsRollout } from './forecast';
import { fitGeometry } from './geometry';
import { MAX_TOKENS, unreadable } from './layout';
import { buildNetworks, buildTrunk, zeroUnseenActions, type Geometry, type Networks, type ValueSpace } from './model';
import { OnnxRollout } from './onnx';
import { trainWorlds, type TrainSummary } from './train';
import { groupWorlds, type WorldGroup } from './world-groups';

/** A group of worlds fitted: its geometry, its networks (around the shared trunk) and their ORT sessions. */
interface FittedGroup extends WorldGroup {
  geometry: Geometry;
  nets: Networks;
  onnx: OnnxRollout | null;
  episodes: number;
  diagnostics: LatentDiagnostics | null;
}

export function createGeneralist(worlds: readonly GeneralistWorld[], config: Partial<JepaConfig>): GeneralistModel {
  // every grid by patches, whatever gridEncoder says (its default, 'local', included): the notes and explain say so
  const full = jepaConfig.resolve({ ...config, gridEncoder: 'patches' });
  const view = worlds[0]?.view;
  if (!view) throw new Error('jepa generalist: no worlds given');
  const grids = worlds.flatMap((w) => {
    const t = w.spec.views[view];
    return t && isCategorical(t) && t.shape.length >= 2 && sizeOf(t) > MAX_TOKENS ? [w.spec.id] : [];
  });
  const gridNote = grids.length
    ? `${grids.join(', ')} read by patches: one width and attention blocks for every world` +
      (config.gridEncoder === 'local' ? " (gridEncoder 'local' is not read by the generalist)" : '')
    : null;
  if (worlds.some((w) => w.view !== view))
    throw new Error(`jepa generalist: every world is read on one view name; got ${worlds.map((w) => w.view)}`);
  for (const w of worlds) {
    const why = w.spec.views[view] ? unreadable(view, w.spec.views[view]) : 'no such view';
    if (why) throw new Error(`jepa generalist cannot read view "${view}" of ${w.spec.id}: ${why}`);
  }
  let groups: FittedGroup[] = [];
  let told = false;
  let summary: TrainSummary | null = null;
  let census: ParameterCensus | null = null;

  const release = async () => {
    const fitted = groups;
    groups = [];
    for (const g of fitted) await g.onnx?.release();
    // every variable once: the trunk's are in every group's networks
    const vars = new Set<tf.Variable>(
      fitted.flatMap(({ nets }) =>
        [nets.online, nets.target, nets.predictor, nets.probe, nets.anchor].flatMap((n) => n?.params() ?? []),
      ),
    );
    for (const v of vars) v.dispose();
  };

  /** The group that reads a window: the named world's, else the one of the window's shapes. */
  const groupOf = (q: Query, world: number | null): FittedGroup => {
    if (world !== null) {
      const g = groups.find((x) => x.worlds.includes(world));
      if (!g) throw new Error(`jepa generalist: world ${world} (${worlds[world]?.spec.id}) had no training episodes`);
      return g;
    }
    const shapes = episodeShapes(q.history, q.view);
    const mine = groups.filter((g) => g.shapes === shapes);
    if (mine.length === 1) return mine[0];
    const fitted = groups.map((g) => `${g.shapes} (${g.worlds.map((w) => worlds[w].spec.id).join(', ')})`);
    if (mine.length === 0)
      throw new Error(
        `jepa generalist: no fitted world shows this window's shapes (${shapes}: view|action|context); fitted: ` +
          `${fitted.join('; ')}`,
      );
    throw new Error(
      `jepa generalist: several worlds fitted apart (told) show this window's shapes (${shapes}); name its world`,
    );
  };

  return {
    async fit(data, run) {
      await initBackend();
      await release();
      told = data.length > 0 && data.every((d) => d.world !== null);
      if (!told && data.some((d) => d.world !== null))
        throw new Error('jepa generalist: some episodes name their world and others do not; name all or none');
      const planned = groupWorlds(worlds, told);
      const members = planned.map(() => [] as Episodes[]);
      data.forEach((d, e) => members[groupIndex(planned, d, e, view)].push(d.episode));
      const kept = planned.flatMap((g, i) =>
        members[i].length ? [{ ...g, data: concatEpisodes(members[i]), episodes: members[i].length }] : [],
      );
      if (!kept.length) throw new Error('jepa generalist: no training episodes');
      const geometries = kept.map((g) => fitGeometry(g.spec, view, full, g.data));
      const nets = generalistNetworks(
        geometries,
        full,
        run.seed,
        kept.map((g) => g.worlds[0]),
      );
      const sets: TrainingSet[] = [];
      try {
        groups = kept.map((g, i) => ({
          worlds: g.worlds,
          shapes: g.shapes,
          spec: g.spec,
          geometry: geometries[i],
          nets: nets[i],
          onnx: null,
          episodes: g.episodes,
          diagnostics: null,
        }));
        for (const [i, g] of groups.entries()) {
          sets.push(buildTrainingSet(g.geometry, kept[i].data, view, full.realReadout === 'change'));
          zeroUnseenActions(g.nets, actionRowsSeen(sets[i]));
        }
        census = parameterCensus(groups);
        const worldsTrained = groups.map((g, i) => ({ nets: g.nets, set: sets[i], config: full }));
        summary = await trainWorlds(worldsTrained, full, createRng(`${run.seed}/jepa/train`), run);
        for (const [i, g] of groups.entries()) g.diagnostics = latentDiagnostics(g.nets, sets[i]);
      } finally {
        sets.forEach(disposeTrainingSet);
      }
      if (full.forecastBackend === 'onnx') for (const g of groups) g.onnx = await OnnxRollout.open(g.nets, g.geometry);
      run.log(
        `jepa generalist: ${groups.length} groups of worlds, ${summary.steps} steps, ` +
          `${(100 * census.share).toFixed(1)}% of ${census.total} parameters shared by every world`,
      );
      return {
        params: census.total,
        backend: full.forecastBackend === 'onnx' ? onnxForecastBackend(summary.engine) : summary.engine,
        notes: {
          told,
          steps: summary.steps,
          probeSteps: summary.probeSteps,
          final: summary.final,
          probeFinal: summary.probeFinal,
          parameters: census,
          ...(gridNote ? { grids: gridNote } : {}),
        },
      } satisfies FitReport;
    },

    async forecast(q, world, _run): Promise<Forecast> {
      if (!groups.length) throw new Error('jepa generalist: forecast() before fit()');
      if (q.view !== view)
        throw new Error(`jepa generalist: this model forecasts view "${view}", the query asks for "${q.view}"`);
      const g = groupOf(q, world);
      const spec = (world !== null ? worlds[world].spec : g.spec).views[view];
      const rollout = g.onnx ? g.onnx.run : tfjsRollout(g.nets, g.geometry);
      // as the specialist: anchored real rollouts re-encode every k steps, k this world's training rollout length
      const k = full.realRollout === 'anchored' ? (summary?.worlds[groups.indexOf(g)]?.rolloutSteps ?? 0) : 0;
      const { change } = g.nets.probe;
      return { mean: await forecastWith(rollout, g.geometry, spec, q, change, full.categoricalRollout, k) };
    },

    explain() {
      if (!summary || !census) return {};
      return {
        told,
        ...(gridNote ? { grids: gridNote } : {}),
        parameters: {
          ...census,
          counted: 'online encoder, predictor and probe (the target encoder is an EMA copy; the anchor trains only)',
        },
        worlds: groups.map((g, i) => ({
          worlds: g.worlds.map((w) => worlds[w].spec.id),
          shapes: g.shapes,
          episodes: g.episodes,
          own: census?.own[i],
          latent: { tokens: g.geometry.state.tokens, width: full.width, slotsPerToken: g.geometry.state.slots },
          ...(g.geometry.context.tokens > 0 ? { context: { pointer: g.geometry.pointer } } : {}),
          training: summary?.worlds[i],
          diagnostics: g.diagnostics,
        })),
        training: {
          steps: summary.steps,
          probeSteps: summary.probeSteps,
          order: 'one world a step, seeded; each world steps in proportion to its windows / batch',
          engine: summary.engine,
          final: summary.final,
          probeFinal: summary.probeFinal,
          history: summary.history,
        },
      };
    },

    async dispose() {
      await release();
    },
  };
}

/**
 * The networks of a generalist's groups of worlds (their geometries) around one trunk, whose value embeddings hold
 * every world's values. Group i's own parts draw from the stream of its first world, `firstWorlds[i]`.
 */
export function generalistNetworks(
  geometries: readonly Geometry[],
  config: JepaConfig,
  seed: number,
  firstWorlds: readonly number[],
): Networks[] {
  const trunk = buildTrunk(config, valueSpace(geometries), `${seed}/jepa/trunk`);
  return geometries.map((g, i) => buildNetworks(g, config, `${seed}/jepa/world${firstWorlds[i]}`, trunk));
}

/**
 * The values the worlds' tokens are made of: the largest vocab of their categorical states and contexts, the most
 * history steps of their real states (token-space.ts).
 */
function valueSpace(geometries: readonly Geometry[]): ValueSpace {
  const vocabs = geometries.flatMap((g) => [
    ...(g.state.kind === 'categorical' ? [g.state.vocab] : []),
    ...g.context.parts.map((p) => p.vocab),
  ]);
  const lags = geometries.map((g) => (g.state.kind === 'real' ? g.state.lags : 0));
  return { vocab: Math.max(0, ...vocabs), lags: Math.max(0, ...lags) };
}

/** The group of training episode `e`: its named world's, else the one of its shapes (an error if none has them). */
function groupIndex(groups: readonly WorldGroup[], d: GeneralistEpisode, e: number, view: string): number {
  const i =
    d.world !== null
      ? groups.findIndex((g) => g.worlds.includes(d.world as number))
      : groups.findIndex((g) => g.shapes === episodeShapes(d.episode, view));
  if (i < 0)
    throw new Error(
      `jepa generalist: training episode ${e} shows shapes ${episodeShapes(d.episode, view)}` +
        `${d.world !== null ? ` and names world ${d.world}` : ''}, which no world given has ` +
        `(${groups.map((g) => g.shapes).join(', ')})`,
    );
  return i;
}
