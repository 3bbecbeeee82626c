// What `pnpm bench` runs.
import { main } from '@worldbench/runner';

process.exitCode = await main(process.argv.slice(2));
