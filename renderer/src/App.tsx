import { EnginePage } from './pages/EnginePage';

export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <span className="app-title">PiX Workbench</span>
      </header>
      <main className="app-main">
        <EnginePage />
      </main>
    </div>
  );
}
