// The Electron shell: one locked-down window showing the renderer bundle, and one IPC handler per
// WorkbenchApi method forwarding to the plain-Node host (host/api.ts). Nothing else belongs here.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, session } from 'electron';
import { channelOf, workbenchMethods, type WorkbenchApi } from '../shared/api';
import { createHostApi } from './host/api';

// Laid out by the build: tsc writes this file to dist/electron/, Vite the renderer to dist/renderer/.
const rendererIndex = join(__dirname, '..', 'renderer', 'index.html');
const rendererPath = pathToFileURL(rendererIndex).pathname;

/** Our own renderer page; query and hash may vary, any other document may not. */
function isRendererUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  return parsed.protocol === 'file:' && parsed.pathname === rendererPath;
}

function registerApiHandlers(api: WorkbenchApi): void {
  for (const method of workbenchMethods) {
    // A request crosses IPC untyped; a method that takes one must validate it.
    const forward = api[method] as (request: unknown) => Promise<unknown>;
    ipcMain.handle(channelOf(method), (event, request: unknown) => {
      // Only our page may call the host, not a frame it embeds; senderFrame is null once it is gone.
      if (!event.senderFrame || !isRendererUrl(event.senderFrame.url)) {
        throw new Error(`${channelOf(method)} refused: the caller is not the workbench renderer`);
      }
      return forward.call(api, request);
    });
  }
}

function createWindow(): void {
  const window = new BrowserWindow({
    width: 1280,
    height: 840,
    title: 'PiX Workbench',
    webPreferences: {
      preload: join(__dirname, 'preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  window.loadFile(rendererIndex).catch((error: unknown) => {
    dialog.showErrorBox(
      'PiX Workbench',
      `Cannot load ${rendererIndex} (${String(error)}). Build the app first: npm run build.`,
    );
    app.quit();
  });
}

// Applies to every web contents, including any a page might create: the app never leaves its own
// page and never opens windows, so links and window.open cannot reach remote content.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (navigation) => {
    if (!isRendererUrl(navigation.url)) navigation.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

void app.whenReady().then(() => {
  // The workbench uses no browser permission (camera, geolocation, notifications…).
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, grant) => grant(false));
  registerApiHandlers(createHostApi());
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});
