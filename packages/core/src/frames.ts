// Drawing for scenarios' frame views: one anti-aliased disc, the sprite of every world with round bodies.

/**
 * Lights the pixels of a disc centred at (cx, cy) pixels (column, row; pixel (i, j) has its centre at (j + 0.5,
 * i + 0.5)) of radius r pixels on `frame` [height, width] (row-major, values in [0, 1]): each pixel within reach
 * takes clamp(r - dist + 0.5, 0, 1) (a one-pixel anti-aliased edge), or what it holds if that is more (overlapping
 * discs take the max). Only the disc's bounding box inside the frame is visited; a disc outside it draws nothing.
 */
export function drawDisc(frame: Float32Array, height: number, width: number, cx: number, cy: number, r: number): void {
  const reach = r + 0.5; // beyond this distance a pixel centre gets nothing
  const j0 = Math.max(0, Math.floor(cx - reach)),
    j1 = Math.min(width - 1, Math.ceil(cx + reach));
  const i0 = Math.max(0, Math.floor(cy - reach)),
    i1 = Math.min(height - 1, Math.ceil(cy + reach));
  for (let i = i0; i <= i1; i++) {
    const dy = i + 0.5 - cy;
    for (let j = j0; j <= j1; j++) {
      const dx = j + 0.5 - cx;
      const intensity = r - Math.sqrt(dx * dx + dy * dy) + 0.5;
      if (intensity <= 0) continue;
      const value = Math.min(intensity, 1);
      if (value > frame[i * width + j]) frame[i * width + j] = value;
    }
  }
}
