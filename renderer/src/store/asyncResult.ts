// The state of one request the user started (evaluate, convert, compare…): idle, in flight, done
// with a value, or failed with the host's message. Shared by the stores; not a cache.
import { errorMessage } from '../format';

export type AsyncResult<T> =
  | { status: 'idle' }
  | { status: 'busy' }
  | { status: 'done'; value: T }
  | { status: 'failed'; message: string };

export const idle = { status: 'idle' } as const;

/**
 * Runs a request and reports each state through `put`. A request superseded by a newer one
 * (`isCurrent` false when it settles) reports nothing, so a slow old answer never overwrites a new one.
 */
export async function track<T>(
  request: () => Promise<T>,
  put: (result: AsyncResult<T>) => void,
  isCurrent: () => boolean = () => true,
): Promise<T | null> {
  put({ status: 'busy' });
  try {
    const value = await request();
    if (isCurrent()) put({ status: 'done', value });
    return value;
  } catch (error) {
    if (isCurrent()) put({ status: 'failed', message: errorMessage(error) });
    return null;
  }
}
