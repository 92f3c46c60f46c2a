// The comparison page's only behaviour beyond htmx and charts.js. Nothing is computed here.
(function () {
  "use strict";

  // Gap presets are submit buttons, so they work without JavaScript. With it, copy the
  // preset into the number input (which lives outside the swapped fragment, so it would
  // otherwise keep the old value) and let the form's own change trigger send the request.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-gap-preset]");
    if (!button || typeof window.htmx === "undefined") {
      return;
    }
    event.preventDefault();
    var input = document.getElementById("id_mean_gap_seconds");
    input.value = button.value;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (!detail.target || detail.target.id !== "results") {
      return;
    }
    // A 400 carries the fragment that names the field at fault: show it. htmx leaves
    // 4xx responses unswapped by default, which would keep stale results on screen.
    if (detail.xhr.status === 400) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
    // Free the Plotly charts about to be replaced (their listeners and WebGL contexts).
    if (detail.shouldSwap && typeof window.Plotly !== "undefined") {
      detail.target.querySelectorAll(".js-plotly-plot").forEach(function (plot) {
        window.Plotly.purge(plot);
      });
    }
  });
})();
