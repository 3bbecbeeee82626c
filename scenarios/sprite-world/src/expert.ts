// The expert's plan: the first step of a shortest path from the agent to the goal, boxes counted as obstacles.
import { CELLS, TILE, agentIndex, distancesFrom, isWalkable, neighbour, type Direction } from './grid';

/**
 * The direction of the first step of a shortest walk (4-neighbourhood, over floor and goal; walls and boxes
 * block) from the agent to the uncovered goal. Ties go to the first of up, down, left, right. Noop (0) when the
 * agent stands on the goal, when the goal is covered by a box or absent, or when no path exists.
 */
export function expertDirection(tiles: ArrayLike<number>): Direction {
  const agent = agentIndex(tiles);
  if (agent < 0 || tiles[agent] === TILE.agentOnGoal) return 0;
  let goal = -1;
  for (let i = 0; i < CELLS; i++) if (tiles[i] === TILE.goal) goal = i;
  if (goal < 0) return 0;
  const dist = distancesFrom(tiles, goal, isWalkable); // steps to the goal from every walkable tile
  if (dist[agent] <= 0) return 0;
  for (let d = 1; d <= 4; d++) if (dist[neighbour(agent, d as Direction)] === dist[agent] - 1) return d as Direction;
  return 0; // unreachable: a tile at distance k > 0 always has a neighbour at k - 1
}
