// Pinned review: choose a spot on a page (click, or arrow keys then Enter), wait for a
// preview being prepared, and slide one version over the other. Without this script the
// pin form still works: the comment is then on the whole file.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var form = document.querySelector("[data-pin-form]");

  function field(name) {
    return form ? form.querySelector("[name='pin-" + name + "']") : null;
  }

  function say(x, y, page) {
    var spot = form.querySelector("[data-pin-spot]");
    var clear = form.querySelector("[data-pin-clear]");
    if (x === null) {
      spot.textContent = form.getAttribute("data-msg-none");
      clear.hidden = true;
      return;
    }
    spot.textContent = form.getAttribute("data-msg-spot")
      .replace("{page}", page).replace("{x}", Math.round(x * 100) + "%").replace("{y}", Math.round(y * 100) + "%");
    clear.hidden = false;
  }

  function marker() {
    var old = document.querySelector("[data-draft-pin]");
    if (old) old.parentNode.removeChild(old);
  }

  function place(canvas, x, y) {
    marker();
    var layer = canvas.querySelector("svg");
    var dot = document.createElementNS(SVG, "circle");
    dot.setAttribute("class", "pin-dot pin-dot-draft");
    dot.setAttribute("cx", (x * 100).toFixed(2) + "%");
    dot.setAttribute("cy", (y * 100).toFixed(2) + "%");
    dot.setAttribute("r", "13");
    dot.setAttribute("data-draft-pin", "");
    layer.appendChild(dot);
    var page = canvas.getAttribute("data-page");
    field("x").value = x.toFixed(4);
    field("y").value = y.toFixed(4);
    field("page").value = page;
    canvas.setAttribute("data-x", x);
    canvas.setAttribute("data-y", y);
    say(x, y, page);
  }

  function clamp(value) {
    return Math.min(1, Math.max(0, value));
  }

  if (form) {
    document.querySelectorAll("[data-pin-canvas]").forEach(function (canvas) {
      canvas.addEventListener("click", function (event) {
        var box = canvas.querySelector("img").getBoundingClientRect();
        if (!box.width || !box.height) return;
        place(canvas, clamp((event.clientX - box.left) / box.width), clamp((event.clientY - box.top) / box.height));
        field("body").focus();
      });
      canvas.addEventListener("keydown", function (event) {
        var step = event.shiftKey ? 0.1 : 0.02;
        var moves = {ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step]};
        var x = parseFloat(canvas.getAttribute("data-x") || "0.5");
        var y = parseFloat(canvas.getAttribute("data-y") || "0.5");
        if (moves[event.key]) {
          event.preventDefault();
          if (!canvas.hasAttribute("data-x")) {
            place(canvas, 0.5, 0.5);  // the first key press shows the spot in the middle
          } else {
            place(canvas, clamp(x + moves[event.key][0]), clamp(y + moves[event.key][1]));
          }
        } else if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          if (!canvas.hasAttribute("data-x")) place(canvas, 0.5, 0.5);
          field("body").focus();
        }
      });
    });
    form.querySelector("[data-pin-clear]").addEventListener("click", function () {
      marker();
      field("x").value = "";
      field("y").value = "";
      document.querySelectorAll("[data-pin-canvas]").forEach(function (canvas) {
        canvas.removeAttribute("data-x");
        canvas.removeAttribute("data-y");
      });
      say(null);
    });
  }

  // A preview being prepared: ask every few seconds, show the page once it is ready.
  var pending = document.querySelector("[data-preview-pending]");
  if (pending && window.fetch) {
    var tries = 0;
    var timer = window.setInterval(function () {
      tries += 1;
      if (tries > 100) window.clearInterval(timer);
      fetch(pending.getAttribute("data-preview-pending"), {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) {
          if (answer && answer.status && answer.status !== "pending") {
            window.clearInterval(timer);
            window.location.reload();
          }
        })
        .catch(function () {});
    }, 2000);
  }

  // Overlay: the later version covers the earlier one from the slider's position.
  document.querySelectorAll("[data-compare-overlay]").forEach(function (block) {
    var top = block.querySelector("[data-compare-top]");
    var slider = block.querySelector("[data-compare-slider]");
    function show() {
      top.style.clipPath = "inset(0 0 0 " + slider.value + "%)";
    }
    slider.addEventListener("input", show);
    show();
  });
})();
