// A child process that runs one checkpoint task (checkpoint_tasks.ts) and replies with its result
// or its error (a RequestError's status kept: worker_protocol.ts), then exits. One process per task:
// a crash or a runaway task cannot take the host with it, and memory goes back to the system when
// it ends.
import { checkpointTasks } from './checkpoint_tasks';
import { carryError, type TaskReply, type TaskRequest } from './worker_protocol';

process.once('message', ({ task, payload }: TaskRequest) => {
  const run = checkpointTasks[task] as (payload: unknown) => Promise<unknown>;
  void Promise.resolve().then(() => run(payload)).then(
    (result): TaskReply => ({ ok: true, result }),
    (error: unknown): TaskReply => ({ ok: false, error: carryError(error) }),
  ).then((reply) => process.send!(reply, () => process.exit(0)));
});
