import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

/** Bundles main/preload.ts (and the contract it uses) into one CommonJS file: dist/main/preload.cjs. */
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL('../dist/main', import.meta.url)),
    emptyOutDir: false,
    minify: false,
    sourcemap: false,
    target: 'node20',
    lib: { entry: fileURLToPath(new URL('./preload.ts', import.meta.url)), formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
    copyPublicDir: false,
  },
});
