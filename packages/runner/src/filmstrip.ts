// Filmstrips for the report: true frames above forecast frames, one PNG (a data URI) per test window.
import { PNG } from 'pngjs';
import { block, type Tensor } from '@worldbench/core';

/** truth and forecast: [n, H, rows, cols] image tensors with values in [0, 1]; at most `steps` frames shown. */
export function filmstrips(truth: Tensor, forecast: Tensor, steps = 8): string[] {
  const [n, H, rows, cols] = truth.shape;
  if (truth.shape.length !== 4) return []; // only single-channel 2-D frames
  const shown = Math.min(H, steps),
    gap = 1;
  const width = shown * (cols + gap) - gap,
    height = 2 * rows + gap;
  return Array.from({ length: n }, (_, b) => {
    const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth: 8 });
    png.data = Buffer.alloc(width * height, 64); // grey separators
    for (const [row0, source] of [
      [0, truth],
      [rows + gap, forecast],
    ] as const)
      for (let h = 0; h < shown; h++) {
        const frame = block(source, b, h);
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < cols; j++)
            png.data[(row0 + i) * width + h * (cols + gap) + j] = Math.round(
              255 * Math.min(1, Math.max(0, frame[i * cols + j])),
            );
      }
    return `data:image/png;base64,${PNG.sync.write(png, { colorType: 0, inputColorType: 0 }).toString('base64')}`;
  });
}
