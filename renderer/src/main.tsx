// Entry point: obtains the client (Electron preload or serve mode), builds the stores over it and
// renders the workbench. A client that cannot be made is shown as the one thing on the page.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { getClient } from './api/client';
import { App } from './App';
import { ErrorNotice } from './components/Notice';
import { errorMessage } from './format';
import { createStores } from './store/stores';
import './styles.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

function root() {
  try {
    return <App stores={createStores(getClient())} />;
  } catch (error) {
    return (
      <main className="app-main">
        <ErrorNotice title="The workbench cannot connect to its host." message={errorMessage(error)} />
      </main>
    );
  }
}

createRoot(container).render(<StrictMode>{root()}</StrictMode>);
