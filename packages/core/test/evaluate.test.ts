// What a forecast must be before it is scored, and what scoring must give, for a job to be recorded ok.
import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import { assertForecast, assertScored, specProblems, tensor, unravelIndex } from '../src/index';

describe('assertForecast', () => {
  const shape = [2, 3, 4]; // [B, H, D]

  it('accepts a dense tensor of the expected shape', () => {
    expect(() =>
      assertForecast({ mean: tensor(shape, new Float32Array(24).fill(0.5)) }, shape, 'test forecast'),
    ).not.toThrow();
  });

  it('refuses data shorter or longer than the shape says (ndarray does not check)', () => {
    expect(() => assertForecast({ mean: ndarray(new Float32Array(10), shape) }, shape, 'test forecast')).toThrow(
      'test forecast: forecast mean holds 10 values, but its shape [2,3,4] needs 24',
    );
    expect(() => assertForecast({ mean: ndarray(new Float32Array(30), shape) }, shape, 'test forecast')).toThrow(
      'holds 30 values, but its shape [2,3,4] needs 24',
    );
    const std = ndarray(new Float32Array(5).fill(1), shape);
    expect(() => assertForecast({ mean: tensor(shape), std }, shape, 'ood forecast')).toThrow(
      'ood forecast: forecast std holds 5 values, but its shape [2,3,4] needs 24',
    );
  });

  it('names the [b, h, ...] index of the first NaN, not its flat position, and how many there are', () => {
    const big = [8, 16, 8, 16]; // [B, H, ...viewShape]: flat 16381 is episode 7, step 15, cell (7, 13)
    expect(unravelIndex(16381, big)).toEqual([7, 15, 7, 13]);
    expect(unravelIndex(0, big)).toEqual([0, 0, 0, 0]);
    const mean = tensor(big);
    mean.data[16381] = NaN;
    mean.data[16383] = Infinity;
    expect(() => assertForecast({ mean }, big, 'test forecast')).toThrow(
      'test forecast: forecast holds NaN or infinity: mean[7, 15, 7, 13] = NaN (2 values are bad; mean is [B, H, ' +
        '...viewShape] = [8, 16, 8, 16])',
    );
    const std = tensor(shape, new Float32Array(24).fill(1));
    std.data[13] = -1; // [1, 0, 1]
    expect(() => assertForecast({ mean: tensor(shape), std }, shape, 'ood forecast')).toThrow(
      'ood forecast: forecast std is not a finite non-negative number everywhere: std[1, 0, 1] = -1 (std is [B, H, ' +
        '...viewShape] = [2, 3, 4])',
    );
  });

  it('refuses a strided view, which scoring would read as if it were dense', () => {
    // shape [2, 3, 4], strides [1, 2, 6]
    const transposed = ndarray(new Float32Array(24), [4, 3, 2]).transpose(2, 1, 0);
    expect(() => assertForecast({ mean: transposed }, shape, 'test forecast')).toThrow(
      'test forecast: forecast mean is a strided view (offset 0, stride [1,2,6]); return a dense row-major tensor',
    );
  });
});

describe('assertScored', () => {
  const scored = () => ({ mse: { '1': 0.5, '2': 0.8 }, skill: { '1': 0.2, '2': null } });

  it('accepts numbers, and a null skill (no persistence error: skill undefined)', () => {
    expect(() => assertScored(scored(), 'test forecast')).not.toThrow();
  });

  it('refuses a NaN anywhere and a null mse: an ok job always has scores', () => {
    expect(() => assertScored({ ...scored(), mse: { '1': NaN, '2': 0.8 } }, 'test forecast')).toThrow(
      'test forecast: mse at h=1 is NaN: the forecast could not be scored',
    );
    expect(() => assertScored({ ...scored(), mse: { '1': 0.5, '2': null } }, 'ood forecast')).toThrow(
      'ood forecast: mse at h=2 is null',
    );
    expect(() => assertScored({ ...scored(), psnr: { '1': Infinity } }, 'test forecast')).toThrow(
      'psnr at h=1 is Infinity',
    );
    expect(() => assertScored({ skill: { '1': 0.1 } }, 'test forecast')).toThrow('test forecast: no mse was scored');
  });
});

describe('scenario ids', () => {
  const spec = (id: string) => ({
    id,
    summary: '',
    views: { state: { shape: [1], kind: 'real' as const } },
    action: null,
    episodeLength: 4,
    historySteps: 1,
    horizon: 1,
    tags: [],
  });

  it(
    'accept any name-vN, dashes and a "-v" inside the name included (the old template type refused ' + 'stack-vm-v1)',
    () => {
      for (const id of ['stack-vm-v1', 'bouncing-balls-v12', 'a-v-b-v3', 'x9-v0'])
        expect(specProblems(spec(id)), id).toEqual([]);
    },
  );

  it('refuse what is not name-vN', () => {
    for (const id of ['stack-vm', 'Stack-v1', 'stack_vm-v1', '-v1', 'stack-v1.5', 'stack-vx'])
      expect(specProblems(spec(id))[0], id).toMatch(/is not of the form name-vN/);
  });
});
