// Which page is on screen. Kept in the URL's hash (#/runs, #/monitor) so a reload, the browser's
// back button in serve mode, and a bookmarked page all land where the user was.
import { createStore } from 'zustand/vanilla';

export const pages = ['runs', 'monitor', 'checkpoints', 'throughput', 'engine'] as const;
export type Page = (typeof pages)[number];

export function pageFromHash(hash: string): Page {
  const name = hash.replace(/^#\/?/, '');
  return (pages as readonly string[]).includes(name) ? (name as Page) : 'runs';
}

export interface NavigationState {
  page: Page;
  go: (page: Page) => void;
  connect: () => () => void;
}

export function createNavigationStore() {
  return createStore<NavigationState>()((set) => ({
    page: pageFromHash(globalThis.location?.hash ?? ''),
    go: (page) => {
      set({ page });
      if (globalThis.location && pageFromHash(globalThis.location.hash) !== page) globalThis.location.hash = `/${page}`;
    },
    connect: () => {
      const onHash = () => set({ page: pageFromHash(globalThis.location.hash) });
      globalThis.addEventListener('hashchange', onHash);
      return () => globalThis.removeEventListener('hashchange', onHash);
    },
  }));
}

export type NavigationStore = ReturnType<typeof createNavigationStore>;
