// Goal forms: show only the fields of the chosen kind of success measure.
// Without JavaScript both groups stay visible; the server ignores the unused one.
(function () {
  "use strict";

  function sync() {
    var chosen = document.querySelector("[data-measure-choice]:checked");
    if (!chosen) return;
    document.querySelectorAll("[data-measure]").forEach(function (group) {
      group.hidden = group.getAttribute("data-measure") !== chosen.value;
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-measure-choice]")) sync();
  });
  sync();
})();
