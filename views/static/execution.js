// Live log lines on the execution page. The server renders the newest lines; this follows the
// panel's data-stream-url (SSE, one event per stored line, the line's id as event id) and appends
// what comes next. Lines are added in small batches and the panel keeps at most MAX_LINES: older
// ones are dropped from the page and stay reachable through "Load older lines".
(() => {
  const MAX_LINES = 2000;
  const BATCH_MS = 50;
  let source = null;
  let streamUrl = null;
  let lastId = 0;
  let queue = [];
  let timer = null;

  const panel = () => document.getElementById('log-view');

  function setStatus(text) {
    const status = panel()?.querySelector('.log-status');
    if (status) status.textContent = text;
  }

  /** (Re)connects when the panel's stream URL changed: first load, filter change, or no stream any more. */
  function connect() {
    const view = panel();
    const url = view?.dataset.streamUrl || null;
    if (url === streamUrl) return;
    source?.close();
    source = null;
    queue = [];
    streamUrl = url;
    if (!url) return;
    const rendered = view.querySelectorAll('#log-tail .log-line');
    lastId = rendered.length ? Number(rendered[rendered.length - 1].dataset.id) : 0;
    source = new EventSource(url);
    source.onmessage = (event) => {
      const line = JSON.parse(event.data);
      // Ids only grow: a line at or below the last one shown is a repeat (never shown twice).
      if (line.id <= lastId) return;
      lastId = line.id;
      queue.push(line);
      timer ??= setTimeout(flush, BATCH_MS);
    };
    source.onopen = () => setStatus('Following live…');
    source.onerror = () => setStatus('Connection lost, reconnecting…');
    source.addEventListener('end', () => {
      source?.close();
      source = null;
      flush();
      setStatus('Execution ended.');
    });
  }

  function lineElement(line) {
    const div = document.createElement('div');
    div.className = `log-line ${line.level}`;
    div.dataset.id = String(line.id);
    const time = document.createElement('time');
    time.dateTime = line.timestamp;
    time.textContent = line.time;
    const level = document.createElement('span');
    level.className = 'log-level';
    level.textContent = line.level;
    const task = document.createElement('span');
    task.className = 'log-task';
    task.textContent = line.taskId ?? '';
    const message = document.createElement('span');
    message.className = 'log-message';
    message.textContent = line.message;
    div.append(time, ' ', level, ' ', task, ' ', message);
    return div;
  }

  function flush() {
    timer = null;
    const view = panel();
    const tail = view?.querySelector('#log-tail');
    if (!tail || queue.length === 0) return;
    const lines = queue.length > MAX_LINES ? queue.slice(-MAX_LINES) : queue;
    queue = [];
    const stick = view.scrollHeight - view.scrollTop - view.clientHeight < 40;
    const fragment = document.createDocumentFragment();
    for (const line of lines) fragment.append(lineElement(line));
    tail.append(fragment);
    view.querySelector('.log-empty')?.remove();
    // Someone reading older lines keeps them, up to a hard cap.
    trim(view, stick ? MAX_LINES : 4 * MAX_LINES);
    if (stick) view.scrollTop = view.scrollHeight;
  }

  /** Drops the oldest lines beyond `max` and points "Load older lines" at the first one kept. */
  function trim(view, max) {
    const all = view.querySelectorAll('.log-line');
    const excess = all.length - max;
    if (excess <= 0) return;
    for (let i = 0; i < excess; i++) all[i].remove();
    for (const block of view.querySelectorAll('.log-lines:not(#log-tail)')) if (!block.firstElementChild) block.remove();
    for (const link of view.querySelectorAll('.log-older')) link.remove();
    const oldest = view.querySelector('.log-line')?.dataset.id;
    if (!oldest) return;
    const link = document.createElement('a');
    link.className = 'log-older';
    link.textContent = 'Load older lines';
    const query = [view.dataset.filter, `beforeId=${oldest}`].filter(Boolean).join('&');
    link.href = `${view.dataset.pageUrl}?${query}#logs`;
    link.setAttribute('hx-get', `${view.dataset.olderUrl}?${query}`);
    link.setAttribute('hx-target', 'this');
    link.setAttribute('hx-swap', 'outerHTML');
    view.prepend(link);
    window.htmx?.process(link);
  }

  document.addEventListener('DOMContentLoaded', connect);
  // The filter form swaps the panel: follow its new stream (or stop).
  document.addEventListener('htmx:after:swap', connect);
  document.addEventListener('htmx:after:settle', connect);
  if (document.readyState !== 'loading') connect();
})();
