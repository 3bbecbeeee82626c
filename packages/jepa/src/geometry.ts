// A fit's geometry (model.ts `Geometry`): the layouts of the spec (layout.ts), then what the training data decides:
// the real views' standardisation (inputs.ts) and the state token that points into the context (pointer.ts).
import type { Episodes, ScenarioSpec } from '@worldbench/core';
import type { JepaConfig } from './config';
import { fitStandardisation } from './inputs';
import { actionLayout, contextLayout, stateLayout } from './layout';
import type { Geometry } from './model';
import { choosePointer } from './pointer';

/**
 * The geometry of a fit from its training data: the layouts, the real views' standardisation and the state
 * token that points into the context (if any).
 */
export function fitGeometry(spec: ScenarioSpec, view: string, config: JepaConfig, data: Episodes): Geometry {
  const geometry = layoutGeometry(spec, view, config);
  fitStandardisation(geometry.state, data, view);
  geometry.pointer = choosePointer(geometry.state, geometry.context, data, view);
  return geometry;
}

/** The geometry before any data: the layouts of the spec, no standardisation, no pointer. */
export function layoutGeometry(spec: ScenarioSpec, view: string, config: JepaConfig): Geometry {
  return {
    state: stateLayout(spec, view, config.historySteps, config.gridEncoder),
    context: contextLayout(spec),
    action: actionLayout(spec),
    pointer: null,
  };
}
