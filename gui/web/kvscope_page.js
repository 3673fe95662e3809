// The page around kvscope.wasm (gui/web/main_web.cpp):
//   - the URL's parameters become the desktop's command line (?lesson=NAME -> --lesson NAME), except
//     ?steps=N, which opens the lesson at step N (--start-step: the desktop's --steps is a headless run);
//   - what kvscope writes to stderr (its one-line errors) shows at the bottom of the page;
//   - a model folder comes in through the Models menu's picker or by dropping its files on the page,
//     is written to the in-memory file system under /folders/N and loaded by the same loaders;
//   - files kvscope writes (F12's screenshot) are downloaded;
//   - window.kvscope is the handle for tests and embedding: ready (true after the first frame),
//     firstFrameMs, state() (the desktop's --state-file JSON for the frame on screen), openFiles(files).
'use strict';
(function () {
  const canvas = document.getElementById('canvas');
  const status = document.getElementById('status');
  const picker = document.getElementById('folder');
  const dropMark = document.getElementById('drop');
  const flags = new Set(['fullscreen', 'no-presenter']);
  const renamed = { steps: 'start-step' };

  const args = [];
  for (const [key, value] of new URLSearchParams(window.location.search)) {
    const name = renamed[key] || key;
    if (flags.has(name)) {
      if (value !== '0' && value !== 'false') args.push('--' + name);
    } else {
      args.push('--' + name, value);
    }
  }

  function show(line) {
    status.textContent = line;
    status.hidden = false;
  }

  let folders = 0;
  // Files of one folder (a picker's, or dropped): the ones at its top level, by name, as a model
  // folder named like the picked one (the window shows that name).
  async function openFiles(files) {
    const list = Array.from(files);
    if (list.length === 0) return;
    const picked = list[0].webkitRelativePath ? list[0].webkitRelativePath.split('/')[0] : 'dropped-files';
    const dir = '/folders/' + (++folders) + '/' + picked.replace(/[^A-Za-z0-9._-]/g, '_');
    Module.FS.mkdirTree(dir);
    for (const file of list) {
      const parts = (file.webkitRelativePath || file.name).split('/');
      if (parts.length > 2) continue;  // a sub-folder's file: model folders keep theirs at the top
      Module.FS.writeFile(dir + '/' + parts[parts.length - 1], new Uint8Array(await file.arrayBuffer()));
    }
    status.hidden = true;
    Module.ccall('kvscope_open_folder', null, ['string'], [dir]);
  }

  picker.addEventListener('change', () => {
    openFiles(picker.files);
    picker.value = '';
  });
  window.addEventListener('dragover', (e) => {
    e.preventDefault();
    dropMark.hidden = false;
  });
  window.addEventListener('dragleave', () => { dropMark.hidden = true; });
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    dropMark.hidden = true;
    openFiles(e.dataTransfer.files);
  });
  canvas.addEventListener('mousedown', () => canvas.focus());

  window.kvscope = {
    ready: false,
    firstFrameMs: null,
    exitStatus: null,  // set when kvscope could not start (1 bad data, 2 bad usage)
    errors: [],        // every line kvscope wrote to stderr
    state() { return JSON.parse(Module.ccall('kvscope_state', 'string', [], [])); },
    openFiles,
  };

  window.Module = {
    canvas,
    arguments: args,
    print(text) { console.log(text); },
    printErr(text) {
      console.error(text);
      window.kvscope.errors.push(text);
      show(text);
    },
    kvscopeFirstFrame() {
      window.kvscope.firstFrameMs = performance.now();  // since the page's navigation started
      if (status.textContent.startsWith('Loading')) status.hidden = true;
      canvas.focus();
      window.kvscope.ready = true;
    },
    kvscopeFailed(code) { window.kvscope.exitStatus = code; },
    kvscopePickFolder() { picker.click(); },
    kvscopeDownload(path) {
      const data = Module.FS.readFile(path);
      Module.FS.unlink(path);
      const url = URL.createObjectURL(new Blob([data], { type: 'image/png' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = path.split('/').pop();
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    },
  };
})();
