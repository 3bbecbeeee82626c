// `pnpm bench check MODEL | SCENARIO`: the public conformance suites of @worldbench/core as a command
// (Gymnasium's check_env). A model is checked against every registered scenario it reads (checkWorldModel:
// shapes, rollout lengths, no NaN, determinism under a seed, save -> load -> the same forecast); a scenario
// with checkScenario and then with the baselines (persistence, linear) on it. One line per check, PASS, FAIL
// (with every problem) or SKIP (with why); exit code 1 when any check failed.
import {
  checkScenario,
  checkWorldModel,
  ConformanceError,
  findScenario,
  privilegedInfo,
  UserError,
  type PluginEntry,
  type Registry,
  type Scenario,
  type WorldModelModule,
} from '@worldbench/core';
import { parseModelChoice, resolveConfig } from './jobs';
import { isModelPath, modelPathEntry, schemeModelEntry } from './plan';
import { modelModule, scenarioModule } from './run-job';

type Verdict =
  | { status: 'PASS'; detail: string }
  | { status: 'SKIP'; detail: string }
  | { status: 'FAIL'; problems: string[]; stack?: string };

/**
 * What a check that threw says: a ConformanceError's problems, or the error a plug-in threw (a bug in it: its stack
 * helps).
 */
function failure(err: unknown): Verdict {
  if (err instanceof ConformanceError) return { status: 'FAIL', problems: err.problems };
  const e = err instanceof Error ? err : new Error(String(err));
  return { status: 'FAIL', problems: [`threw ${e.name}: ${e.message}`], stack: e.stack };
}

async function checkModelOn(
  module: WorldModelModule,
  config: Record<string, unknown>,
  scenario: Scenario,
): Promise<Verdict> {
  try {
    const support = module.supports(scenario.spec, privilegedInfo(module, config, scenario));
    if (support?.views?.length === 0)
      return {
        status: 'SKIP',
        detail: `reads none of its views: ${'reason' in support ? support.reason : 'no reason given'}`,
      };
    const views = await checkWorldModel(module, scenario, { config });
    return { status: 'PASS', detail: `views ${views.join(', ')}` };
  } catch (err) {
    return failure(err);
  }
}

/**
 * A registered model id (with overrides), a module path or a scheme model: its entry and config; null when `target`
 * names none.
 */
async function modelTarget(
  registry: Registry,
  target: string,
): Promise<{ label: string; entry: PluginEntry; module: WorldModelModule; config: Record<string, unknown> } | null> {
  const choice = parseModelChoice(target);
  const entry = isModelPath(choice.id)
    ? await modelPathEntry(registry, choice.id)
    : (schemeModelEntry(registry, choice.id) ?? registry.models.find((m) => m.id === choice.id) ?? null);
  if (!entry) return null;
  const module = await modelModule(entry);
  const config = resolveConfig(entry.id, module, choice.overrides);
  return { label: target, entry, module, config };
}

/**
 * Runs the checks of `target`, writing a line per check as it ends; returns the exit code (0 all pass, 1 a failure).
 */
export async function runCheck(
  registry: Registry,
  target: string,
  options: { verbose: boolean; write: (line: string) => void },
): Promise<number> {
  const model = await modelTarget(registry, target);
  const checks: Array<{ subject: string; run: () => Promise<Verdict> }> = [];
  if (model) {
    options.write(`check model ${model.entry.id} (${model.entry.entry}) on every registered scenario:`);
    for (const entry of registry.scenarios)
      checks.push({
        subject: entry.id,
        run: async () => checkModelOn(model.module, model.config, await scenarioModule(entry)),
      });
  } else {
    let entry: PluginEntry;
    try {
      entry = findScenario(registry, target);
    } catch {
      throw new UserError(
        `check takes a model or a ` +
          `scenario; "${target}" is neither. ` +
          `Models: ${registry.models.map((m) => m.id).join(', ')} (or ./path/to/model.ts, onnx:file.onnx); ` +
          `scenarios: ${registry.scenarios.map((s) => s.id).join(', ')}`,
      );
    }
    const scenario = await scenarioModule(entry);
    options.write(`check scenario ${entry.id} (${entry.entry}), then the baselines on it:`);
    let sound = true;
    checks.push({
      subject: 'checkScenario',
      run: async () => {
        try {
          checkScenario(scenario);
          return {
            status: 'PASS',
            detail: 'spec, views, actions, context on every split, determinism, noise, shift, hypotheses',
          };
        } catch (err) {
          sound = false;
          return failure(err);
        }
      },
    });
    for (const m of registry.models) {
      const module = await modelModule(m);
      if (module.card.school !== 'baseline') continue;
      checks.push({
        subject: m.id,
        run: async () =>
          sound
            ? checkModelOn(module, { ...module.defaults }, scenario)
            : { status: 'SKIP', detail: 'the scenario fails its own checks' },
      });
    }
  }
  const width = Math.max(...checks.map((c) => c.subject.length));
  let failed = 0,
    skipped = 0;
  for (const c of checks) {
    const v = await c.run();
    if (v.status === 'SKIP') skipped++;
    const head = `  ${v.status}  ${c.subject.padEnd(width)}  `;
    if (v.status !== 'FAIL') options.write(head + v.detail);
    else {
      failed++;
      options.write(head + v.problems[0]);
      for (const p of v.problems.slice(1)) options.write(' '.repeat(head.length) + p);
      if (options.verbose && v.stack)
        for (const l of v.stack.split('\n').slice(1)) options.write(' '.repeat(head.length + 2) + l.trim());
    }
  }
  const passed = checks.length - failed - skipped;
  if (failed)
    options.write(
      `${failed} of ` +
        `${checks.length} checks failed` +
        `${options.verbose ? '' : ' (--verbose shows the stack of an error a plug-in threw)'}`,
    );
  else if (passed === 0)
    options.write('nothing was checked: it reads none of the registered scenarios (see the reasons above)');
  else options.write(`${passed} check(s) passed${skipped ? `, ${skipped} skipped` : ''}`);
  return failed || passed === 0 ? 1 : 0;
}
