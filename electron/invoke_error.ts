// The renderer's half of a failed IPC call, kept free of any `electron` import so it can be tested.
// The main process answers an IpcOutcome (ipc_bridge.ts); the preload turns a failed one into the
// Error the page shows, worded by the shared contract as serve mode words it (shared/call_failure.ts).
import { callFailureMessage, type IpcOutcome } from '../shared/call_failure';

// ipcRenderer.invoke rejects with "Error invoking remote method '<channel>': Error: <message>".
// The renderer shows errors to the user, who needs the host's message, not Electron's wrapping.
const INVOKE_PREFIX = /^Error invoking remote method '[^']*': (?:[A-Za-z]*Error: )?/;

export function hostErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(INVOKE_PREFIX, '');
}

/**
 * The value of an invoke, or an Error worded for the page. The handlers answer failures as outcomes,
 * so an invoke that rejects (no handler, a value IPC could not copy) is the host failing.
 */
export async function settleInvoke(invoke: () => Promise<unknown>): Promise<unknown> {
  let outcome: IpcOutcome;
  try {
    outcome = (await invoke()) as IpcOutcome;
  } catch (error) {
    throw new Error(callFailureMessage({ kind: 'host', message: hostErrorMessage(error) }));
  }
  if (outcome.ok) return outcome.value;
  throw new Error(callFailureMessage(outcome.failure));
}
