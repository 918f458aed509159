// Runs a checkpoint task in its own child process (task_worker.ts) and settles with its result, or
// rejects with its error: a RequestError when the task refused what the caller sent.
// The host keeps one TaskRunner, so closing the host ends every task still running.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { CheckpointTasks, TaskName } from './checkpoint_tasks';
import { restoreError, type TaskReply, type TaskRequest } from './worker_protocol';

export class TaskRunner {
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly script = join(__dirname, 'task_worker.js')) {}

  run<T extends TaskName>(task: T, payload: Parameters<CheckpointTasks[T]>[0]): ReturnType<CheckpointTasks[T]> {
    return new Promise<unknown>((resolve, reject) => {
      const child = fork(this.script, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      this.children.add(child);
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      let reply: TaskReply | undefined;
      child.once('message', (message: TaskReply) => {
        reply = message;
      });
      child.once('exit', (code, signal) => {
        this.children.delete(child);
        if (reply?.ok) resolve(reply.result);
        else if (reply) reject(restoreError(reply.error));
        else reject(new Error(`the ${task} task's process ${signal ? `was killed by ${signal}` : `exited with code ${code}`} before answering` +
          (stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : '')));
      });
      child.send({ task, payload } satisfies TaskRequest);
    }) as ReturnType<CheckpointTasks[T]>;
  }

  close(): void {
    for (const child of this.children) child.kill('SIGKILL');
  }
}
