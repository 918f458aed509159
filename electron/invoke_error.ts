// ipcRenderer.invoke rejects with "Error invoking remote method '<channel>': Error: <message>".
// The renderer shows errors to the user, who needs the host's message, not Electron's wrapping;
// the serve-mode client reports the same message, so both transports read alike.
const INVOKE_PREFIX = /^Error invoking remote method '[^']*': (?:[A-Za-z]*Error: )?/;

export function hostErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(INVOKE_PREFIX, '');
}
