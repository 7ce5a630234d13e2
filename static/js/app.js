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
})();
