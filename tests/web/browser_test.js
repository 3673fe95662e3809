// The page in a real browser (scripts/test-web.sh): Debian's Chromium, headless, software WebGL2
// (SwiftShader), driven by puppeteer-core with key presses and clicks as a person would.
//   node browser_test.js PAGE_DIR MODEL_DIR OUT_DIR
// PAGE_DIR: build-web/; MODEL_DIR: a Hugging Face folder to open through the folder picker; OUT_DIR:
// screenshots and downloads. Prints one JSON line of measurements; exits 1 on the first failure.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const zlib = require('zlib');
const puppeteer = require('puppeteer-core');

const [pageDir, modelDir, outDir] = process.argv.slice(2).map((p) => path.resolve(p));
if (process.argv.length !== 5) {
  console.error('usage: node browser_test.js PAGE_DIR MODEL_DIR OUT_DIR');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });

function check(ok, what) {
  if (!ok) throw new Error('FAILED: ' + what);
  console.log('ok: ' + what);
}

// A static file server for PAGE_DIR, as python3 -m http.server would serve it.
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.data': 'application/octet-stream' };
function serve() {
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.join(pageDir, name === '/' ? 'index.html' : name);
    if (!file.startsWith(pageDir + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function state(page) { return page.evaluate(() => window.kvscope.state()); }

// Waits until the App shows `steps` steps with nothing running.
async function waitForSteps(page, steps, what) {
  for (let i = 0; i < 600; ++i) {
    const s = await state(page);
    if (s.steps_shown === steps && !s.busy) return s;
    await sleep(50);
  }
  throw new Error('FAILED: ' + what + ': never reached ' + steps + ' steps');
}

async function waitFor(page, predicate, what) {
  let s = null;
  for (let i = 0; i < 600; ++i) {
    s = await state(page);
    if (predicate(s)) return s;
    await sleep(50);
  }
  const shown = { model: s.model, error: s.error, status: s.status, loading_model: s.loading_model, steps_shown: s.steps_shown };
  throw new Error('FAILED: ' + what + ' (state: ' + JSON.stringify(shown) + ')');
}

async function open(page, base, query) {
  await page.goto(base + '/' + (query ? '?' + query : ''));
  await page.waitForFunction('window.kvscope && (window.kvscope.ready || window.kvscope.exitStatus !== null)', { timeout: 60000 });
  const exitStatus = await page.evaluate(() => window.kvscope.exitStatus);
  check(exitStatus === null, 'page ' + (query || '(default)') + ' started (exit status ' + exitStatus + ')');
}

function center(rect) { return { x: (rect[0] + rect[2]) / 2, y: (rect[1] + rect[3]) / 2 }; }

async function main() {
  const server = await serve();
  const base = 'http://127.0.0.1:' + server.address().port;
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const measured = {};
  try {
    const page = await browser.newPage();
    const foreign = [];
    page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) foreign.push(r.url()); });
    page.on('pageerror', (e) => console.log('page error: ' + e.message));
    await page.setViewport({ width: 1600, height: 900, deviceScaleFactor: 1 });

    // The default lesson, stepped with Space as a teacher would.
    await open(page, base, '');
    measured.first_frame_ms = await page.evaluate(() => window.kvscope.firstFrameMs);
    let s = await state(page);
    check(s.lesson.name === 'time_flies_fast' && s.steps_shown === 0 && s.error === '', 'the default lesson opens at no step');
    check(s.window_size[0] === 1600 && s.window_size[1] === 900, 'the window fills the 1600x900 page: ' + s.window_size);
    await page.screenshot({ path: path.join(outDir, 'web_default.png') });
    await page.keyboard.press('Space');
    await waitForSteps(page, 1, 'first Space');
    await page.keyboard.press('Space');
    s = await waitForSteps(page, 2, 'second Space');
    const text = s.tokens.concat([s.next]).join(' ');
    check(text === 'Time flies fast', 'two Space presses show "Time flies fast": "' + text + '"');
    check(s.top1_agrees && s.max_abs_logit_diff < 1e-4, 'cached == uncached: max |dlogit| ' + s.max_abs_logit_diff);
    check(s.figures.length > 0, 'the frame declared its figures (' + s.figures.length + ')');
    measured.step_ms = s.step_ms;
    await page.screenshot({ path: path.join(outDir, 'web_time_flies_fast_step1.png') });

    // F12 downloads the screenshot instead of writing it to disk.
    const downloads = path.join(outDir, 'downloads');
    fs.rmSync(downloads, { recursive: true, force: true });
    fs.mkdirSync(downloads);
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    await page.keyboard.press('F12');
    let png = null;
    for (let i = 0; i < 100 && !png; ++i) {
      await sleep(100);
      const done = fs.readdirSync(downloads).filter((f) => f.endsWith('.png'));
      if (done.length) png = path.join(downloads, done[0]);
    }
    check(png !== null, 'F12 downloads a screenshot');
    const head = fs.readFileSync(png);
    check(head.readUInt32BE(0) === 0x89504e47 && head.readUInt32BE(16) === 1600 && head.readUInt32BE(20) === 900,
          'the download is a 1600x900 PNG: ' + path.basename(png));

    // Lessons by URL, opened at a step.
    // The memory wall measures its steps in the page too (one thread): 256 and 1,024 positions, its view shown.
    for (const [lesson, steps] of [['same_word_rope', 1], ['fewer_kv_heads', 2], ['guess_ahead_take_back', 1], ['memory_wall', 1]]) {
      await open(page, base, 'lesson=' + lesson + '&steps=' + steps);
      s = await waitForSteps(page, steps + 1, lesson);
      check(s.lesson.name === lesson && s.step === steps && s.error === '', '?lesson=' + lesson + '&steps=' + steps + ' opens it at step ' + s.step);
      if (lesson === 'memory_wall')
        check(s.below_panes === 'memory_wall' && s.position === 1023, 'the memory wall shows its view at 1,024 positions (position ' + s.position + ')');
      await page.screenshot({ path: path.join(outDir, 'web_' + lesson + '_step' + steps + '.png') });
    }

    // A bad URL parameter: the desktop's one-line usage error, on the page, status 2.
    await page.goto(base + '/?view=sideways');
    await page.waitForFunction('window.kvscope && window.kvscope.exitStatus !== null', { timeout: 60000 });
    const bad = await page.evaluate(() => ({ status: window.kvscope.exitStatus, errors: window.kvscope.errors,
                                             shown: document.getElementById('status').textContent }));
    check(bad.status === 2 && bad.errors.length === 1 && bad.errors[0].includes('--view') && bad.shown === bad.errors[0],
          '?view=sideways: status 2 and one line on the page: ' + bad.errors[0]);
    await page.screenshot({ path: path.join(outDir, 'web_bad_parameter.png') });

    // A Hugging Face folder through the Models menu's folder picker.
    await open(page, base, '');
    // The item's click opens the picker from the next animation frame, inside the click's user
    // activation. On a loaded machine that has once come too late for Chromium: up to three tries,
    // each opening the menu again, and every console line about it printed.
    page.on('console', (m) => { if (/activation|chooser/i.test(m.text())) console.log('console: ' + m.text()); });
    let chooser = null;
    for (let attempt = 1; attempt <= 3 && !chooser; ++attempt) {
      s = await state(page);
      if (!(s.menu_open_folder && s.menu_open_folder[2] > 0)) {
        const models = center(s.menu_models);
        await page.mouse.click(models.x, models.y);
        s = await waitFor(page, (x) => x.menu_open_folder && x.menu_open_folder[2] > 0, 'the Models menu opens');
      }
      const openItem = center(s.menu_open_folder);
      await page.mouse.move(openItem.x, openItem.y);  // hovered first, as a hand would
      await sleep(200);
      try {
        [chooser] = await Promise.all([page.waitForFileChooser({ timeout: 5000 }), page.mouse.click(openItem.x, openItem.y)]);
      } catch (e) {
        console.log('attempt ' + attempt + ': no folder picker within 5 s');
      }
    }
    check(chooser !== null && chooser.isMultiple(), 'the menu opens the folder picker');
    await chooser.accept([modelDir]);  // a folder picker takes the folder
    const config = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
    s = await waitFor(page, (x) => !x.loading_model && x.status.startsWith('model loaded'), 'the picked folder loads');
    check(s.n_layer === config.num_hidden_layers && s.error === '',
          'the picked folder is the model shown: ' + s.model + ', ' + s.n_layer + ' layers as its config.json says');
    await page.mouse.move(1200, 880);  // off the sidebar: no tooltip over the panes in the screenshot
    await page.keyboard.press('Space');
    s = await waitForSteps(page, 1, 'a step on the picked model');
    check(s.top1_agrees && s.max_abs_logit_diff < 1e-4, 'the picked model steps, cached == uncached');
    await page.screenshot({ path: path.join(outDir, 'web_picked_folder.png') });

    // A broken folder: the loaders' one-line error, shown on the page; the model on screen stays.
    await page.evaluate(async () => {
      const files = [new File(['{"model_type": "gpt2", "n_layer": '], 'config.json'), new File(['x'], 'model.safetensors')];
      await window.kvscope.openFiles(files);
    });
    s = await waitFor(page, (x) => !x.loading_model && x.error !== '', 'a broken folder reports an error');
    check(s.error.includes('config.json') && !s.error.includes('\n') && s.n_layer === config.num_hidden_layers,
          'a broken config.json gives one line naming it, and the model stays: ' + s.error);
    await page.screenshot({ path: path.join(outDir, 'web_broken_folder.png') });

    // A resize and a high-density screen: the window follows both.
    await page.setViewport({ width: 1280, height: 720, deviceScaleFactor: 2 });
    s = await waitFor(page, (x) => x.window_size[0] === 2560, 'the window follows the resize');
    check(s.window_size[1] === 1440 && s.min_text_px >= 2 * 12, 'at devicePixelRatio 2 the window is 2560x1440 pixels, text ' + s.min_text_px + ' px');
    await page.screenshot({ path: path.join(outDir, 'web_dpr2.png') });

    check(foreign.length === 0, 'the page fetched nothing but its own files' + (foreign.length ? ': ' + foreign.join(' ') : ''));
    measured.gzip_bytes = {};
    let total = 0;
    for (const f of fs.readdirSync(pageDir)) {
      const n = zlib.gzipSync(fs.readFileSync(path.join(pageDir, f)), { level: 9 }).length;
      measured.gzip_bytes[f] = n;
      total += n;
    }
    measured.gzip_bytes.total = total;
    console.log(JSON.stringify(measured));
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
