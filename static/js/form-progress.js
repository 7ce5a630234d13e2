// Forms marked data-upload-progress: when files are chosen, the form is sent with XMLHttpRequest so
// that a progress bar can show how much is uploaded; then the page continues as the browser would
// have: the page the redirect led to, or the form the server sent back with its messages.
// Without JavaScript, or when no file is chosen, the form posts as usual.
// The texts come translated from the form's data-msg-* attributes.
(function () {
  "use strict";

  var ANNOUNCE_STEP = 25; // the live region speaks at 0, 25, 50 and 75%: often enough, not a stream

  function message(form, name, values) {
    var text = form.getAttribute("data-msg-" + name) || "";
    Object.keys(values || {}).forEach(function (key) {
      text = text.split("{" + key + "}").join(values[key]);
    });
    return text;
  }

  function submitButtons(form) {
    return Array.prototype.filter.call(form.elements, function (element) {
      return (element.tagName === "BUTTON" || element.tagName === "INPUT") && element.type === "submit";
    });
  }

  function hasFiles(form) {
    return Array.prototype.some.call(form.elements, function (element) {
      return element.type === "file" && !element.disabled && element.files && element.files.length > 0;
    });
  }

  // The bar, the live region and the error box exist before anything happens: a live region
  // added together with its first text is often not announced.
  function build(form) {
    var area = document.createElement("div");
    area.className = "mt-3";
    area.hidden = true;
    var progress = document.createElement("div");
    progress.className = "progress";
    progress.setAttribute("role", "progressbar");
    progress.setAttribute("aria-label", message(form, "label"));
    progress.setAttribute("aria-valuemin", "0");
    progress.setAttribute("aria-valuemax", "100");
    progress.setAttribute("aria-valuenow", "0");
    var bar = document.createElement("div");
    bar.className = "progress-bar";
    progress.appendChild(bar);
    var caption = document.createElement("p");
    caption.className = "small text-secondary mt-1 mb-0";
    caption.setAttribute("aria-hidden", "true"); // the live region says it, at a gentler pace
    area.appendChild(progress);
    area.appendChild(caption);

    var live = document.createElement("div");
    live.className = "visually-hidden";
    live.setAttribute("role", "status");
    live.setAttribute("aria-live", "polite");

    var error = document.createElement("div");
    error.className = "alert alert-danger mt-3 mb-0";
    error.setAttribute("role", "alert");
    error.hidden = true;

    form.appendChild(area);
    form.appendChild(live);
    form.appendChild(error);
    return { area: area, progress: progress, bar: bar, caption: caption, live: live, error: error, announced: -1 };
  }

  function show(ui, form, percent) {
    ui.progress.setAttribute("aria-valuenow", String(percent));
    ui.bar.style.width = percent + "%"; // CSSOM, not a style attribute: the CSP allows it
    ui.caption.textContent = message(form, "progress", { percent: percent });
    var step = Math.floor(percent / ANNOUNCE_STEP) * ANNOUNCE_STEP;
    if (step > ui.announced && percent < 100) {
      ui.announced = step;
      ui.live.textContent = message(form, "progress", { percent: step });
    }
  }

  // Show the page the server answered as if the browser had loaded it: its scripts run, and the
  // flashed messages it carries are seen (fetching responseURL again would have lost them).
  function replacePage(html, url) {
    if (url && url !== window.location.href) window.history.replaceState(null, "", url);
    document.open();
    document.write(html);
    document.close();
    window.scrollTo(0, 0);
  }

  function send(form, submitter) {
    var ui = form._uploadProgress;
    var data = new FormData(form); // in page order: the CSRF token comes before the files
    if (submitter && submitter.name) data.append(submitter.name, submitter.value); // draft or publish
    // Not form.action: a field named "action" (the draft/publish buttons) hides that property.
    var action = submitter && submitter.hasAttribute("formaction")
      ? submitter.formAction
      : new URL(form.getAttribute("action") || "", document.baseURI).href;
    var buttons = submitButtons(form).filter(function (button) { return !button.disabled; });

    function fail(text) {
      form._uploadSending = false;
      form.removeAttribute("aria-busy");
      buttons.forEach(function (button) { button.disabled = false; });
      ui.area.hidden = true;
      ui.live.textContent = "";
      ui.error.textContent = text;
      ui.error.hidden = false;
    }

    form._uploadSending = true;
    form.setAttribute("aria-busy", "true");
    buttons.forEach(function (button) { button.disabled = true; });
    ui.error.hidden = true;
    ui.error.textContent = "";
    ui.announced = -1;
    ui.bar.classList.remove("progress-bar-striped", "progress-bar-animated");
    show(ui, form, 0);
    ui.area.hidden = false;

    var xhr = new XMLHttpRequest();
    xhr.open("POST", action);
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable && event.total > 0) {
        show(ui, form, Math.min(99, Math.floor((event.loaded / event.total) * 100)));
      }
    });
    xhr.upload.addEventListener("load", function () {
      show(ui, form, 100);
      ui.bar.classList.add("progress-bar-striped", "progress-bar-animated");
      ui.caption.textContent = message(form, "saving");
      ui.live.textContent = message(form, "saving");
    });
    xhr.addEventListener("load", function () {
      var type = xhr.getResponseHeader("Content-Type") || "";
      if (type.indexOf("text/html") === 0) {
        // A success arrives here after the redirect (responseURL is where it led); a refusal (4xx)
        // is the form again, with the server's messages and the text as it was typed.
        replacePage(xhr.responseText, xhr.status < 400 ? xhr.responseURL : null);
      } else if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL) {
        window.location.assign(xhr.responseURL);
      } else {
        fail(message(form, "failed"));
      }
    });
    ["error", "abort", "timeout"].forEach(function (name) {
      xhr.addEventListener(name, function () { fail(message(form, "network")); });
    });
    xhr.send(data);
  }

  function enhance(form) {
    if (form._uploadProgress || !window.FormData || !window.XMLHttpRequest) return;
    form._uploadProgress = build(form);
    // Browsers without SubmitEvent.submitter: remember the button that was clicked.
    form.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("button, input");
      if (button && button.type === "submit" && button.form === form) form._uploadSubmitter = button;
    });
  }

  // Listening on the document, after app.js: a submission another script cancelled (data-confirm)
  // is left alone.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-upload-progress]") || !form._uploadProgress) return;
    if (form._uploadSending) {
      event.preventDefault(); // a second click while the files are on their way sends nothing twice
      return;
    }
    if (event.defaultPrevented || (form.getAttribute("method") || "").toLowerCase() !== "post" || !hasFiles(form)) return;
    event.preventDefault();
    // Enter in a field submits with the form's first submit button, as the browser would.
    var submitter = event.submitter || form._uploadSubmitter || submitButtons(form)[0] || null;
    form._uploadSubmitter = null;
    send(form, submitter);
  });

  document.querySelectorAll("form[data-upload-progress]").forEach(enhance);
})();
