import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (`scripts/setup.sh` installs it): playwright-core downloads no browser of its own. */
export const CHROMIUM = process.env.TSK_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Where each page's screenshot goes (the repository's `test-results/`, gitignored; CI keeps it as an artifact). */
export const SCREENSHOT_DIR = resolve(fileURLToPath(import.meta.url), '../../../../../test-results/dashboard');

/** A headless Chromium for one test file, and what its pages said that a test must notice. */
export interface TestBrowser {
  browser: Browser;
  /** A fresh context (its own cookies) with one page, watched: page errors and CSP reports are collected. */
  newPage(options?: { baseURL?: string }): Promise<Page>;
  /** Uncaught errors and console errors of every page opened so far (CSP violations say so there). */
  problems(): string[];
  /** Save `page` as `test-results/dashboard/<name>.png` (the whole page unless `fullPage` is false). */
  screenshot(page: Page, name: string, options?: { fullPage?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    browser,
    async newPage(options = {}) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, ...(options.baseURL ? { baseURL: options.baseURL } : {}) });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => problems.push(`pageerror ${page.url()}: ${error.message}`));
      page.on('console', (message) => {
        // A refused EventSource while a server stops is not the page's fault; anything else is.
        if (message.type() === 'error' && !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE/.test(message.text())) problems.push(`console ${page.url()}: ${message.text()}`);
      });
      return page;
    },
    problems: () => [...problems],
    async screenshot(page, name, options = {}) {
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: options.fullPage ?? true });
      return path;
    },
    async close() {
      for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
      await browser.close();
    },
  };
}

/** Rows of the task list (`tr[data-id]`) in one group (`queued`, `running`, `done`). */
export function rowIn(page: Page, group: 'queued' | 'running' | 'done', id: string) {
  return page.locator(`table[data-group="${group}"] tr[data-id="${id}"]`);
}
