/** Entry point: antd's theme and message/modal context around the console. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App as AntApp, ConfigProvider, type ThemeConfig } from 'antd';
import { App } from './App.tsx';

const THEME: ThemeConfig = {
  token: { colorPrimary: '#2f7d4f', borderRadius: 6 },
  components: { Tree: { nodeSelectedBg: '#d8ede0', nodeHoverBg: '#eef6f1' } },
};

const root = document.getElementById('root');
if (!root) throw new Error('index.html lacks #root');

createRoot(root).render(
  <StrictMode>
    <ConfigProvider theme={THEME}>
      <AntApp>
        <App />
      </AntApp>
    </ConfigProvider>
  </StrictMode>,
);
