// `pnpm new-scenario <name>`: scaffolds scenarios/<name> (a working scenario <name>-v1, its README, a test
// running the conformance suite) that `pnpm bench --scenario <name>` finds. See docs/writing-a-scenario.md.
import { scaffold } from './scaffold';

process.exitCode = scaffold('scenario', process.argv.slice(2));
