// The one error a sample's decode raises for a file that cannot become an image (truncated, corrupt,
// zero-byte, not an image, or larger than the pixel limit). The loader catches exactly this type to
// skip and list the file; any other error is a bug and stops the run.

/** Images with more pixels than this are refused before decoding (decompression bombs). */
export const DEFAULT_PIXEL_LIMIT = 1 << 28;

export class BadImageError extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'BadImageError';
  }
}
