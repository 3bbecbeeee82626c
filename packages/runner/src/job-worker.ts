// The entry of a pool worker (pool.ts): a child process that runs ONE job and sends its result line to
// the parent, which alone writes results (a generalist fit: its lines, one per world). One process per job: a
// crash, a leak or a hang stays inside it,
// and process.resourceUsage().maxRSS at the end is the job's own peak memory.
import { runUnit } from './unit';
import type { JobRunContext, RunJobMessage, WorkerMessage } from './worker-messages';

function send(message: WorkerMessage, then?: () => void): void {
  process.send!(message, undefined, undefined, (err) => {
    if (err) process.exit(1); // the parent is gone: nobody can store the result
    then?.();
  });
}

if (!process.send) {
  process.stderr.write('job-worker.ts is started by the runner pool (child_process.fork), not by hand\n');
  process.exit(2);
}

// The parent died (kill -9, a node lost): stop at once, its job will be rerun.
process.on('disconnect', () => process.exit(0));

process.once('message', async (message: RunJobMessage) => {
  const { planned, root, threads } = message;
  const run: JobRunContext = {
    seed: planned.job.seed,
    signal: new AbortController().signal,
    threads,
    log: (m) => send({ type: 'log', message: m }),
    progress: (done, total, note) => send({ type: 'progress', done, total, note }),
  };
  const results = await runUnit(planned, root, run, (phase) => send({ type: 'phase', phase }));
  send({ type: 'result', results }, () => process.exit(0));
});

send({ type: 'ready' });
