// The Electron shell: one locked-down window showing the renderer bundle, the host (host/api.ts)
// behind one IPC handler per WorkbenchApi method (ipc_bridge.ts), its events forwarded to the
// window, and the native file dialogs. The rules live in plain modules beside this file
// (trusted_sender.ts, ipc_bridge.ts) where they are tested; this file only wires Electron to them.
import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, session, type OpenDialogOptions } from 'electron';
import type { WorkbenchDialogs } from '../shared/api';
import { createHost } from './host/api';
import { forwardEvents, registerApiHandlers, registerDialogHandlers } from './ipc_bridge';
import { isRendererUrl, isTrustedSender, type FrameLike } from './trusted_sender';

// Laid out by the build: tsc writes this file to dist/electron/, Vite the renderer to dist/renderer/.
const rendererIndex = join(__dirname, '..', 'renderer', 'index.html');

let mainWindow: BrowserWindow | null = null;

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 840,
    title: 'PiX Workbench',
    webPreferences: {
      preload: join(__dirname, 'preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      webviewTag: false,
    },
  });
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  window.loadFile(rendererIndex).catch((error: unknown) => {
    dialog.showErrorBox('PiX Workbench', `Cannot load ${rendererIndex} (${String(error)}). Build the app first: npm run build.`);
    app.quit();
  });
  return window;
}

async function openDialog(options: OpenDialogOptions): Promise<string | null> {
  const result = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

const dialogs: WorkbenchDialogs = {
  pickFolder: () => openDialog({ properties: ['openDirectory'] }),
  pickFile: (extensions) => openDialog({ properties: ['openFile'], filters: [{ name: extensions.join(', '), extensions }] }),
};

// Applies to every web contents, including any a page might create: the app never leaves its own
// page, never opens windows and never embeds a webview, so nothing remote can be reached.
app.on('web-contents-created', (_event, contents) => {
  const stayHome = (navigation: { url: string; preventDefault(): void }) => {
    if (!isRendererUrl(navigation.url, rendererIndex)) navigation.preventDefault();
  };
  contents.on('will-navigate', stayHome);
  contents.on('will-redirect', stayHome);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

void app.whenReady().then(() => {
  // The workbench uses no browser permission (camera, geolocation, notifications…).
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, grant) => grant(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  const host = createHost();
  const isTrusted = (frame: FrameLike | null) => isTrustedSender(frame, rendererIndex);
  registerApiHandlers(ipcMain, host.api, isTrusted);
  registerDialogHandlers(ipcMain, dialogs, isTrusted);
  const stopForwarding = forwardEvents(host, (channel, payload) => {
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(channel, payload);
  });

  // Quitting waits for the host to stop its runs and workers; a second quit request passes through.
  let closing = false;
  app.on('will-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    stopForwarding();
    void host.close().finally(() => app.quit());
  });

  mainWindow = createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });
});
