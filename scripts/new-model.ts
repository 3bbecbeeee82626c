// `pnpm new-model <name>`: scaffolds packages/<name> (a working k-nearest-neighbour model, its config, a test
// running the conformance suite) that `pnpm bench --model <name>` finds. See docs/writing-a-model.md.
import { scaffold } from './scaffold';

process.exitCode = scaffold('model', process.argv.slice(2));
