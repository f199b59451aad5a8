import { defineConfig, loadEnv } from 'vite';

// `npm run dev` proxies the API to a running chatd (CHATD_URL, default the `make run` address).
// chatd refuses POSTs from a foreign Origin, so the proxy presents the daemon's own origin.
export default defineConfig(({ mode }) => {
  const chatd = loadEnv(mode, '.', '').CHATD_URL || 'http://127.0.0.1:8080';
  const proxy = { target: chatd, changeOrigin: true, headers: { origin: chatd } };
  return {
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    server: { proxy: { '/rpc': proxy, '/api': proxy } },
  };
});
