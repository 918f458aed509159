// What the Electron preload (electron/preload.ts) exposes. Absent outside Electron, hence optional.
import type { WorkbenchClient } from '../../../shared/api';

declare global {
  interface Window {
    readonly pix?: WorkbenchClient;
  }
}
