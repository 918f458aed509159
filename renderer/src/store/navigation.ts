// Which page is on screen. Deliberately not in the URL: serve mode carries its access token in the
// URL's fragment, and the pages are views of one session rather than documents to link to.
import { createStore } from 'zustand/vanilla';

export const pages = ['runs', 'monitor', 'checkpoints', 'throughput', 'engine'] as const;
export type Page = (typeof pages)[number];

export interface NavigationState {
  page: Page;
  go: (page: Page) => void;
}

export function createNavigationStore(initial: Page = 'runs') {
  return createStore<NavigationState>()((set) => ({
    page: initial,
    go: (page) => set({ page }),
  }));
}
