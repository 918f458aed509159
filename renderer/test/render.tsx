// Renders a page or component with a fresh set of stores over a fake client, as the app does with
// the real one.
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { createStores, StoresProvider, type Stores } from '../src/store/stores';
import type { FakeClient } from './fakeClient';

export function renderWithStores(ui: ReactElement, client: FakeClient): { stores: Stores } & ReturnType<typeof render> {
  const stores = createStores(client);
  return { stores, ...render(<StoresProvider stores={stores}>{ui}</StoresProvider>) };
}
