// Python's number semantics that timm's and torchvision's parameter draws depend on, for the ports
// in this folder: round() rounds halves to even (JavaScript's Math.round rounds them up), random.
// randint is inclusive at both ends while torch.randint excludes its upper end, random.gauss is
// normal. Not a general Python emulation: the draws come from the sample's own Random stream.
import type { Random } from '../sample_random';

/** Python's round(x) for a float: the nearest integer, halves to the even one. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** random.randint(a, b): an integer in [a, b], both ends included. */
export function randint(random: Random, a: number, b: number): number {
  return a + Math.floor(random() * (b - a + 1));
}

/** torch.randint(low, high, (1,)).item(): an integer in [low, high), high excluded (unlike random.randint). */
export function torchRandint(random: Random, low: number, high: number): number {
  if (!(high > low)) throw new Error(`torch.randint: high (${high}) must be above low (${low})`);
  return low + Math.floor(random() * (high - low));
}

/** random.uniform(a, b). */
export function uniform(random: Random, a: number, b: number): number {
  return a + (b - a) * random();
}

/** random.gauss(mu, sigma) by Box-Muller, as Python computes it (without its cached second value). */
export function gauss(random: Random, mu: number, sigma: number): number {
  const angle = random() * 2 * Math.PI;
  const radius = Math.sqrt(-2 * Math.log(1 - random()));
  return mu + Math.cos(angle) * radius * sigma;
}
