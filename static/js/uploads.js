// Upload areas (form[data-upload]): choose files with the labelled input or drop them on the box;
// each file is sent on its own request with a progress bar, so large files show progress and one
// refused file does not hold back the others. Without JavaScript the form posts normally.
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');

  function message(form, name, values) {
    var text = form.getAttribute("data-msg-" + name) || "";
    Object.keys(values || {}).forEach(function (key) {
      text = text.split("{" + key + "}").join(values[key]);
    });
    return text;
  }

  function extensionOf(name) {
    var dot = name.lastIndexOf(".");
    return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
  }

  // One row per file: its name, a status text and a <progress> named after the file.
  function addRow(form, file) {
    var list = form.querySelector("[data-upload-list]");
    var item = document.createElement("li");
    item.className = "upload-item";
    var line = document.createElement("div");
    line.className = "d-flex flex-wrap justify-content-between gap-2";
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    var state = document.createElement("span");
    state.className = "upload-state small";
    state.textContent = message(form, "uploading");
    line.appendChild(name);
    line.appendChild(state);
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    item.appendChild(line);
    item.appendChild(bar);
    list.appendChild(item);
    return { item: item, state: state, bar: bar };
  }

  function finish(row, ok, text) {
    row.state.textContent = text;
    row.item.classList.add(ok ? "is-done" : "is-failed");
    row.state.classList.add(ok ? "text-success-emphasis" : "text-danger-emphasis");
    if (ok) row.bar.value = 100;
  }

  // Check what the browser already knows (size, extension) before sending a byte.
  function precheck(form, file) {
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);
    var allowed = (form.getAttribute("data-extensions") || "").split(",");
    if (file.size === 0) return message(form, "empty");
    if (maxBytes && file.size > maxBytes) return message(form, "too-large");
    if (allowed.indexOf(extensionOf(file.name)) === -1) return message(form, "type");
    return null;
  }

  function send(form, file, row) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("csrf_token", form.querySelector('input[name="csrf_token"]').value);
      data.append("files", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      if (csrfMeta) xhr.setRequestHeader("X-CSRFToken", csrfMeta.getAttribute("content"));
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          // The last percent is for the server's answer: 100 means stored, not just sent.
          row.bar.value = Math.min(99, Math.floor((event.loaded / event.total) * 100));
        }
      });
      xhr.addEventListener("load", function () {
        var reply = {};
        try { reply = JSON.parse(xhr.responseText); } catch (ignored) { reply = {}; }
        // Only a 201 with the stored files is a success: a redirect to the login page (the session
        // ended) is followed by the browser and would otherwise look like one.
        if (xhr.status === 201 && reply.files) {
          finish(row, true, message(form, "done"));
          resolve({ ok: true, redirect: reply.redirect });
        } else {
          var loggedOut = xhr.responseURL && new URL(xhr.responseURL).pathname === "/login";
          var text = reply.error || (loggedOut ? message(form, "login") : xhr.status === 413 ? message(form, "too-large") : message(form, "failed"));
          finish(row, false, text);
          resolve({ ok: false });
        }
      });
      xhr.addEventListener("error", function () {
        finish(row, false, message(form, "network"));
        resolve({ ok: false });
      });
      xhr.addEventListener("abort", function () {
        finish(row, false, message(form, "network"));
        resolve({ ok: false });
      });
      xhr.send(data);
    });
  }

  function summarise(form, results) {
    var summary = form.querySelector("[data-upload-summary]");
    summary.textContent = "";
    var succeeded = results.filter(function (r) { return r.ok; });
    var text = document.createElement("span");
    text.textContent = succeeded.length === results.length ? message(form, "all-done") : message(form, "some-failed");
    summary.appendChild(text);
    if (succeeded.length) {
      var link = document.createElement("a");
      link.href = succeeded[0].redirect || window.location.pathname;
      link.className = "ms-2";
      link.textContent = message(form, "show");
      summary.appendChild(link);
    }
  }

  // Files go one after another: the first finishes sooner and the connection is not split.
  function upload(form, files) {
    var summary = form.querySelector("[data-upload-summary]");
    summary.textContent = "";
    var jobs = Array.prototype.map.call(files, function (file) {
      var row = addRow(form, file);
      var problem = precheck(form, file);
      if (problem) finish(row, false, problem);
      return { file: file, row: row, problem: problem };
    });
    var results = jobs.filter(function (job) { return job.problem; }).map(function () { return { ok: false }; });
    var chain = Promise.resolve();
    jobs.forEach(function (job) {
      if (job.problem) return;
      chain = chain.then(function () {
        return send(form, job.file, job.row).then(function (result) { results.push(result); });
      });
    });
    chain.then(function () { summarise(form, results); });
  }

  function enhance(form) {
    var input = form.querySelector('input[type="file"]');
    var zone = form.querySelector("[data-drop-zone]");
    var submit = form.querySelector("[data-upload-submit]");
    if (!input || !window.FormData || !window.XMLHttpRequest) return;
    if (submit) submit.hidden = true; // files start uploading as soon as they are chosen
    function sendChosen() {
      if (input.files && input.files.length) upload(form, input.files);
      input.value = "";
    }
    input.addEventListener("change", sendChosen);
    // Files chosen before this script ran (a slow connection, an eager user) fired their "change"
    // before anyone listened: send them now rather than leave them unsent behind a hidden button.
    sendChosen();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (input.files && input.files.length) upload(form, input.files);
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("is-dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.remove("is-dragging");
      });
    });
    zone.addEventListener("drop", function (event) {
      if (event.dataTransfer && event.dataTransfer.files.length) upload(form, event.dataTransfer.files);
    });
  }

  document.querySelectorAll("form[data-upload]").forEach(enhance);
})();
