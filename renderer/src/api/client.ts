// The one place the renderer obtains its WorkbenchApi. Pages and stores call workbenchApi() and
// never touch window.pix, so another transport (the serve mode's WebSocket) plugs in here alone.
import type { WorkbenchApi } from '../../../shared/api';

export function workbenchApi(): WorkbenchApi {
  if (!window.pix) {
    throw new Error(
      'The workbench API is not available: window.pix is missing. Open this page in the PiX Workbench app.',
    );
  }
  return window.pix;
}
