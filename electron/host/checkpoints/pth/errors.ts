// The one error type of the .pth reader. Every problem found in a file (zip container, pickle,
// tensor records) is reported as a PthError whose message starts with the file's name, so callers
// and the fuzz tests can tell a refused file from a bug.
export class PthError extends Error {}

export function fail(source: string, problem: string): never {
  throw new PthError(printable(`${source}: ${problem}`));
}

/** Messages quote names taken from the file: control characters escaped and a length cap, so a hostile name cannot rewrite the terminal or flood it. */
export function printable(text: string): string {
  const escaped = text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length > 600 ? `${escaped.slice(0, 480)}…${escaped.slice(-100)}` : escaped;
}
