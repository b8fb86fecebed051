// Browser upload for the intake page: drag and drop or choose several files; each is sent
// on its own (XMLHttpRequest, for upload progress) as the raw body to /intake/upload.
// No inline script or style: the page's CSP allows scripts from /static only.
"use strict";

(function () {
  const zone = document.getElementById("drop-zone");
  const input = document.getElementById("upload-input");
  const list = document.getElementById("upload-list");
  if (!zone || !input || !list) {
    return;
  }
  const msg = zone.dataset;
  const maxBytes = Number(msg.maxBytes);
  const queue = [];
  let busy = false;

  function item(file) {
    const li = document.createElement("li");
    li.className = "list-group-item pv-upload-item";
    const name = document.createElement("div");
    name.className = "d-flex flex-wrap gap-2 align-items-baseline";
    const label = document.createElement("span");
    label.className = "fw-semibold text-break pv-file";
    label.textContent = file.name;
    const state = document.createElement("span");
    state.className = "badge text-bg-secondary pv-upload-state";
    state.textContent = msg.msgWaiting;
    name.append(label, state);
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    const note = document.createElement("div");
    note.className = "small mt-1 pv-upload-note";
    li.append(name, bar, note);
    list.append(li);
    return { li, state, bar, note };
  }

  function finish(view, ok, text) {
    view.state.className = "badge pv-upload-state text-bg-" + (ok ? "success" : "danger");
    view.state.textContent = ok ? "✓" : msg.msgError;
    view.li.dataset.result = ok ? "ok" : "error";
    view.note.textContent = text;
    if (ok) {
      view.bar.value = 100;
      document.body.dispatchEvent(new Event("pv-uploaded"));
      const target = document.getElementById("intake-list");
      if (target && window.htmx) {
        window.htmx.trigger(target, "pv-refresh");
      }
    }
  }

  function send(file, view) {
    return new Promise(function (resolve) {
      if (file.size > maxBytes) {
        finish(view, false, msg.msgTooBig);
        resolve();
        return;
      }
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/intake/upload");
      xhr.setRequestHeader("X-CSRF-Token", msg.csrf);
      xhr.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      view.state.textContent = msg.msgSending;
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          view.bar.value = Math.round((e.loaded / e.total) * 100);
        }
      });
      xhr.addEventListener("load", function () {
        let body = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch (err) {
          body = null;
        }
        if (xhr.status === 200 && body && body.ok) {
          finish(view, true, body.message);
        } else {
          finish(view, false, (body && (body.error || body.detail)) || msg.msgError);
        }
        resolve();
      });
      xhr.addEventListener("error", function () {
        finish(view, false, msg.msgNetwork);
        resolve();
      });
      xhr.send(file);
    });
  }

  // One upload at a time: two cores serve the office, and the order of drops is kept.
  async function pump() {
    if (busy) {
      return;
    }
    busy = true;
    while (queue.length > 0) {
      const next = queue.shift();
      await send(next.file, next.view);
    }
    busy = false;
  }

  function add(files) {
    for (const file of files) {
      queue.push({ file: file, view: item(file) });
    }
    pump();
  }

  input.addEventListener("change", function () {
    add(Array.from(input.files || []));
    input.value = "";
  });
  zone.addEventListener("dragover", function (e) {
    e.preventDefault();
    zone.classList.add("is-over");
  });
  zone.addEventListener("dragleave", function () {
    zone.classList.remove("is-over");
  });
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    zone.classList.remove("is-over");
    add(Array.from((e.dataTransfer && e.dataTransfer.files) || []));
  });
})();
