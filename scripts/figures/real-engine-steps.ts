// Issue 24: jepa's and spatial's real networks trained on the ONNX Runtime engine against tfjs, side by side in
// one run (scripts/real-steps.ts: what is trained; jepa's prediction term and spatial's dynamics loss, as when the
// issue was measured): the same loss and gradients on the first batch from the same weights, then a step's time
// on each.
//
//   tsx scripts/figures/real-engine-steps.ts [--runs 5] [--steps 20] [--warmup 3]

import { initBackend } from '@worldbench/neural';
import { jepaStep, spatialStep } from '../real-steps';
import { compareSteps, timingArgs } from '../train-steps';

const timing = timingArgs('real-engine-steps');
const backend = await initBackend();
for (const make of [jepaStep, spatialStep]) {
  const step = await make();
  const { tfjsLoss, scale, engine } = step.check;
  const { loss: engineLoss, worst } = engine;
  console.log(step.summary);
  console.log(
    `first batch: loss tfjs ${tfjsLoss.toPrecision(7)}, engine ${engineLoss.toPrecision(7)}; ` +
      `gradients max |engine - tfjs| ${worst.toExponential(2)} (largest |gradient| ${scale.toExponential(2)})`,
  );
  await compareSteps(step.title, [`tfjs (${backend.name})`, step.tfjs], step.engine, timing);
  await step.dispose();
}
