// The scenario's two policies and the purposeful one they are not. Actions are forces in [-1, 1] (shape [1]).
import type { Rng } from '@worldbench/core';

/** behavior(): the amplitude the expert holds, frame units: where every law is the same spring. */
export const EXPERT_AMPLITUDE = 0.1;
/** behavior(): action per unit of relative energy error. */
export const EXPERT_GAIN = 1;
/** behavior(): half-width of the uniform dither added to the expert's action. */
export const EXPERT_DITHER = 0.2;

/**
 * The narrow expert: an operator who keeps the oscillator in a steady small swing of amplitude EXPERT_AMPLITUDE, as
 * one runs a machine in its linear range. It knows the world's stiffness k and takes the energy to be the linear
 * spring's, E = v^2 / 2 + k x^2 / 2 (true of every law at this amplitude), against the setpoint E* = k 0.1^2 / 2; it
 * pushes with the velocity below the setpoint and against it above, with a small uniform dither:
 * clamp(EXPERT_GAIN (1 - E / E*) sign(v) + U(-0.2, 0.2), -1, 1), sign(0) = +1. Its data shows the stiffness clearly
 * (|x| ~ 0.1 against the noise 0.01) and never the amplitudes where the laws part.
 */
export function amplitudeHold(bob: ArrayLike<number>, k: number, rng: Rng): Float32Array {
  const [x, v] = [bob[0], bob[1]];
  const energy = 0.5 * v * v + 0.5 * k * x * x;
  const setpoint = 0.5 * k * EXPERT_AMPLITUDE * EXPERT_AMPLITUDE;
  const a = EXPERT_GAIN * (1 - energy / setpoint) * (v >= 0 ? 1 : -1) + rng.uniform(-EXPERT_DITHER, EXPERT_DITHER);
  return Float32Array.of(Math.min(1, Math.max(-1, a)));
}

/** Broad: a force uniform in [-1, 1] every step, whatever the state. */
export function randomForce(rng: Rng): Float32Array {
  return Float32Array.of(rng.uniform(-1, 1));
}

/**
 * Pumping: the full force in the direction of the velocity, every step. It adds energy at the largest rate a force
 * in [-1, 1] can (FORCE_SCALE |v| per unit mass), whatever the law and the stiffness, so it reaches the amplitudes
 * where the laws differ. Not a policy of the scenario: the experiment a model would have to discover.
 */
export function pump(bob: ArrayLike<number>): Float32Array {
  return Float32Array.of(bob[1] >= 0 ? 1 : -1);
}
