// Drives Debian's Chromium (playwright-core, no browser download) against a dashboard while
// `accord demo --dashboard` runs. Reads its settings from the JSON in argv[2]; prints one
// JSON object with what it saw. test_dashboard_browser.py makes the assertions.
//
//   {url, artifacts, userDataDir, xss: {uri, metaKey, metaValue}, timeoutMs, gateFile}
//
// The demo's work steps wait until gateFile exists (ACCORD_DEMO_GATE); the driver creates it
// once it has seen the whole graph, so it sees the steps before they are done and as they
// change, however slowly the browser starts.
const fs = require('fs');
const { chromium } = require('playwright-core');

const cfg = JSON.parse(process.argv[2]);
const out = { seen: {}, dialogs: [], pageErrors: [], foreignRequests: [], steps: [],
  graphNodes: [], graphEdges: 0, runKey: null, delivered: [], xss: null, narrow: null,
  screenshots: [], timeline: [] };
const t0 = Date.now();
const mark = (what) => out.timeline.push([what, Date.now() - t0]);

async function until(page, what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await fn();
    if (got) { mark(what); return got; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await page.waitForTimeout(100);
  }
}

(async () => {
  const context = await chromium.launchPersistentContext(cfg.userDataDir, {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    const origin = new URL(cfg.url).origin;
    page.on('dialog', async (d) => { out.dialogs.push(d.message()); await d.dismiss(); });
    page.on('pageerror', (e) => out.pageErrors.push(String(e)));
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(origin) && !u.startsWith('data:')) out.foreignRequests.push(u);
    });
    await page.goto(cfg.url);
    mark('loaded');

    // The demo's run appears (the page selects the newest run a user started).
    const runKey = await until(page, 'run listed', () => page.evaluate(() => {
      const b = [...document.querySelectorAll('#runs button[data-run]')]
        .find((x) => x.textContent.includes('demo'));
      return b ? b.dataset.run : null;
    }), cfg.timeoutMs);
    out.runKey = runKey;
    await page.click(`#runs button[data-run="${runKey}"]`);
    const [chain, id] = runKey.split('/');

    // Watch the graph until every step is Done, recording each node's states on the way.
    const expected = await until(page, 'run detail', () => page.evaluate(async (u) => {
      const r = await fetch(u);
      return r.ok ? (await r.json()).steps.map((s) => s.name) : null;
    }, `/api/runs/${chain}/${id}`), cfg.timeoutMs);
    out.steps = expected;
    await until(page, 'all steps Done', async () => {
      const nodes = await page.evaluate(() => {
        const cy = window.accord && window.accord.cy;
        return cy ? cy.nodes().map((n) => ({ name: n.data('name'), state: n.data('state') })) : [];
      });
      for (const n of nodes) {
        out.seen[n.name] ||= [];
        if (!out.seen[n.name].includes(n.state)) out.seen[n.name].push(n.state);
      }
      out.graphNodes = nodes;
      if (cfg.gateFile && nodes.length === expected.length && !fs.existsSync(cfg.gateFile)) {
        fs.writeFileSync(cfg.gateFile, JSON.stringify(nodes));
        mark('gate opened');
      }
      return nodes.length === expected.length && nodes.every((n) => n.state === 'Done');
    }, cfg.timeoutMs);
    out.graphEdges = await page.evaluate(() => window.accord.cy.edges().length);
    out.stepRows = await page.evaluate(() => [...document.querySelectorAll('#steps tbody tr')]
      .map((tr) => [tr.dataset.step, tr.dataset.state]));

    // The run's cross-chain messages (a task out, its result back) show as delivered.
    out.delivered = await until(page, 'messages delivered', () => page.evaluate(() => {
      const rows = [...document.querySelectorAll('#messages tbody tr[data-status="delivered"]')];
      return rows.length >= 2 ? rows.map((r) => r.textContent) : null;
    }), cfg.timeoutMs);

    // The hostile agent: its URI and metadata show as literal text and run nothing.
    const x = cfg.xss;
    out.xss = await until(page, 'hostile agent shown', () => page.evaluate((x) => {
      const row = [...document.querySelectorAll('#agents tbody tr')]
        .find((tr) => tr.querySelector('.agent-uri')?.textContent === x.uri);
      if (!row) return null;
      return {
        uri: row.querySelector('.agent-uri').textContent,
        meta: [...row.querySelectorAll('.agent-meta .kv')].map((k) => k.textContent),
        imgs: document.querySelectorAll('img').length,
        scripts: [...document.querySelectorAll('script')].map((s) => s.src),
        injected: document.querySelectorAll('#agents b, #agents img, #agents script').length,
        flag: window.__xss === undefined ? null : window.__xss,
      };
    }, x), cfg.timeoutMs);
    await page.waitForTimeout(300); // an onerror would have fired by now
    out.xss.flagAfter = await page.evaluate(() => (window.__xss === undefined ? null : window.__xss));

    await until(page, 'run badge Completed', () => page.evaluate(
      () => document.querySelector('#run-title .badge')?.textContent === 'Completed'), cfg.timeoutMs);
    const wide = `${cfg.artifacts}/dashboard-1280x800.png`;
    await page.screenshot({ path: wide });
    out.screenshots.push(wide);
    const full = `${cfg.artifacts}/dashboard-1280-full.png`;
    await page.screenshot({ path: full, fullPage: true });
    out.screenshots.push(full);
    await page.setViewportSize({ width: 400, height: 800 });
    await page.waitForTimeout(400);
    out.narrow = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      tablesScroll: [...document.querySelectorAll('.table-wrap')].map((w) => w.scrollWidth > w.clientWidth),
      graphWidth: document.getElementById('graph').getBoundingClientRect().width,
      nodes: window.accord.cy.nodes().length,
    }));
    const narrow = `${cfg.artifacts}/dashboard-400-wide.png`;
    await page.screenshot({ path: narrow, fullPage: true });
    out.screenshots.push(narrow);
    out.ok = true;
  } catch (err) {
    out.ok = false;
    out.error = String(err && err.stack || err);
    try {
      const page = context.pages()[0];
      const fail = `${cfg.artifacts}/dashboard-failure.png`;
      await page.screenshot({ path: fail, fullPage: true });
      out.screenshots.push(fail);
    } catch (_) { /* best effort */ }
  } finally {
    await context.close();
  }
  process.stdout.write(JSON.stringify(out));
})();
