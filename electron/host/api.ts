// The host side of the WorkbenchApi contract (shared/api.ts). Plain Node with no `electron` import,
// so the Electron shell, the serve mode and the tests all drive the same implementation.
import type { WorkbenchApi } from '../../shared/api';
import { engineInfo } from './engine/addon';

export function createHostApi(): WorkbenchApi {
  return {
    // async so that an addon failure reaches the caller as a rejection, as the contract promises.
    engineInfo: async () => engineInfo(),
  };
}
