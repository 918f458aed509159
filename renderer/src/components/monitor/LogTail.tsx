// The newest lines a run printed, scrolled to the bottom as lines arrive unless the user has
// scrolled up to read.
import { useEffect, useRef } from 'react';

export function LogTail({ lines }: { lines: string[] }) {
  const box = useRef<HTMLPreElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <pre
      ref={box}
      className="log-tail"
      aria-label="Log"
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
      }}
    >
      {lines.length > 0 ? lines.join('\n') : 'No output yet.'}
    </pre>
  );
}
