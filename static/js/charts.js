// Draws every server-built Plotly figure on the page. The figure (data, layout, config)
// comes from a json_script element whose id ends in "-figure"; the chart goes into the
// element whose data-figure names that id. Nothing is computed here.
(function () {
  "use strict";

  function draw(root) {
    if (typeof window.Plotly === "undefined") {
      return;
    }
    var sources = root.querySelectorAll('script[type="application/json"][id$="-figure"]');
    sources.forEach(function (source) {
      var target = document.querySelector('[data-figure="' + source.id + '"]');
      if (!target) {
        return;
      }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(target, figure.data, figure.layout, figure.config || {});
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  } else {
    draw(document);
  }
  // Fragments swapped in by htmx may bring their own figures.
  document.addEventListener("htmx:afterSettle", function (event) {
    draw(event.detail.elt);
  });
})();
