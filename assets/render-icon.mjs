// Renders assets/icon.svg to assets/icon.png (1024 px) with Chromium: node assets/render-icon.mjs
import { chromium } from 'playwright-core';
import { readFile } from 'node:fs/promises';
const svg = await readFile('assets/icon.svg', 'utf8');
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const p = await b.newPage({ viewport: { width: 1024, height: 1024 } });
await p.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
await p.locator('svg').screenshot({ path: 'assets/icon.png', omitBackground: true });
await b.close();
