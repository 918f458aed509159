// What the Electron preload (electron/preload.ts) exposes. Absent outside Electron, hence optional.
import type { WorkbenchApi } from '../../../shared/api';

declare global {
  interface Window {
    readonly pix?: WorkbenchApi;
  }
}
