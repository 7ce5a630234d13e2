// Rapport's own behaviour. Loaded on every page; no inline scripts (the CSP forbids them).
(function () {
  "use strict";

  // Forms marked data-confirm ask before a destructive action is sent.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Only show the client field of the invite form when the role is "client".
  function syncRoleFields() {
    var role = document.querySelector("[data-role-select]");
    var clientBlock = document.querySelector("[data-client-block]");
    if (!role || !clientBlock) return;
    clientBlock.hidden = role.value !== "client";
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-role-select]")) syncRoleFields();
  });
  document.addEventListener("DOMContentLoaded", syncRoleFields);

  // A "Copy" button next to a read-only field (the calendar address): shown only where the
  // browser can copy; the field itself stays selectable for everyone else.
  document.querySelectorAll("button[data-copy-from]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-from"));
    if (!field || !navigator.clipboard || !window.isSecureContext) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        button.textContent = button.getAttribute("data-msg-copied");
      }, function () {
        field.select();
      });
    });
  });

  // A create form's one-time key must survive Back: pages are not kept (no-store), so Back
  // fetches the form again with a new key while the browser refills what the user typed, and
  // a second send would create the thing twice. The key a form was sent with is written into
  // that history entry's state; coming back to the entry puts it back, so the server sees the
  // repeat (portal/once.py) and lands on the first result. A new visit is a new entry: a new key.
  document.querySelectorAll('input[type="hidden"][name$="submission_key"]').forEach(function (input) {
    var form = input.form;
    if (!form || !window.history || !window.history.replaceState) return;
    // getAttribute: a field named "action" (the update form's buttons) shadows form.action.
    var slot = "submission:" + new URL(form.getAttribute("action") || window.location.href, window.location.href).pathname + ":" + input.name;
    var state = window.history.state;
    if (state && typeof state[slot] === "string") input.value = state[slot];
    form.addEventListener("submit", function () {
      var kept = Object.assign({}, window.history.state || {});
      kept[slot] = input.value;
      window.history.replaceState(kept, "");
    });
  });
})();
