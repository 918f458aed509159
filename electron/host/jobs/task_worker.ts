// A child process that runs one checkpoint task (checkpoint_tasks.ts) and replies with its result
// or its error message, then exits. One process per task: a crash or a runaway task cannot take
// the host with it, and memory goes back to the system when it ends.
import { checkpointTasks, type TaskName } from './checkpoint_tasks';

type TaskRequest = { task: TaskName; payload: unknown };

process.once('message', ({ task, payload }: TaskRequest) => {
  const run = checkpointTasks[task] as (payload: unknown) => Promise<unknown>;
  void Promise.resolve().then(() => run(payload)).then(
    (result) => ({ ok: true, result }),
    (error: unknown) => ({ ok: false, error: error instanceof Error ? error.message : String(error) }),
  ).then((reply) => process.send!(reply, () => process.exit(0)));
});
