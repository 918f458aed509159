// What every `pix` subcommand provides. One file per command under commands/, listed in main.ts.
export interface Command {
  name: string;
  /** One line for `pix --help`. */
  summary: string;
  usage: string;
  /** Returns the process exit code. Throwing prints "pix: <message>" and exits 1. */
  run(args: string[]): Promise<number>;
}

/** The valid choice closest to `input` (edit distance), for "did you mean" hints. */
export function closest(input: string, choices: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const choice of choices) {
    const d = editDistance(input, choice);
    if (d < bestDistance) [best, bestDistance] = [choice, d];
  }
  return bestDistance <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
