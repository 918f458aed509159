// The one error type of the .pth reader and writer. Every problem found in a file (zip container,
// pickle, tensor records) is reported as a PthError whose message starts with the file's name, so
// callers and the fuzz tests can tell a refused file from a bug.
export class PthError extends Error {}

export function fail(source: string, problem: string): never {
  throw new PthError(`${source}: ${problem}`);
}
