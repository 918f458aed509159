// The two ways a page reports on a request: an error box naming the problem (role=alert, so screen
// readers announce it) and a quiet busy line. Presentation only.
import { createContext, useContext, type ReactNode } from 'react';
import type { AsyncResult } from '../store/asyncResult';

/**
 * The host failure the shell's banner says (unreachable, or the token refused), null while there is
 * none. Every request fails then with that same message; pages under the banner leave it out of
 * their own notices, so a stale token on a fresh load is said once, not once per request.
 */
export const ShellFailure = createContext<string | null>(null);

export function ErrorNotice({ title, message, children }: { title: string; message: string; children?: ReactNode }) {
  const shellFailure = useContext(ShellFailure);
  if (shellFailure && message.includes(shellFailure)) return null;
  return (
    <div className="notice notice-error" role="alert">
      <p>{title}</p>
      <pre className="notice-detail">{message}</pre>
      {children}
    </div>
  );
}

/** Busy text while in flight, the error when failed, nothing otherwise. */
export function ResultStatus({ result, busy, failed }: { result: AsyncResult<unknown>; busy: string; failed: string }) {
  if (result.status === 'busy') return <p className="loading" role="status">{busy}</p>;
  if (result.status === 'failed') return <ErrorNotice title={failed} message={result.message} />;
  return null;
}
