// Who may talk to the main process: only the workbench renderer page, loaded from its file on disk,
// in a window's top frame. Plain functions over URLs and frame shapes, so the rule is unit-tested
// without Electron; electron/main.ts applies it to IPC senders and to navigations.
import { pathToFileURL } from 'node:url';

/** The parts of Electron's WebFrameMain the check reads. */
export interface FrameLike {
  url: string;
  parent: FrameLike | null;
}

/** Our own renderer page: file: URL of `rendererIndex` exactly; query and hash may vary, nothing else. */
export function isRendererUrl(url: string, rendererIndex: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  return parsed.protocol === 'file:' && parsed.host === '' && parsed.pathname === pathToFileURL(rendererIndex).pathname;
}

/**
 * An IPC sender is trusted when it is the renderer page's top frame. A frame the page embeds (even
 * one showing the same file) is not, and a frame that has gone away (null) is not.
 */
export function isTrustedSender(frame: FrameLike | null | undefined, rendererIndex: string): boolean {
  return frame != null && frame.parent === null && isRendererUrl(frame.url, rendererIndex);
}
