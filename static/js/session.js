/* A session's power curve (static: the session page is history). */
(function () {
  "use strict";
  var node = document.querySelector(".power-chart[data-session]");
  if (!node) return;
  var series = (window.ChargegridLive.readJSON(document, "power-series") || {})[node.dataset.session] || [];
  if (!series.length) return;
  var zone = node.dataset.timezone || "UTC";
  var time = window.ChargegridLive.timeChart(zone);
  new uPlot({
    width: Math.max(280, node.clientWidth || 600),
    height: 220,
    // The site's clock and the reader's language, like every time on the page.
    tzDate: time.tzDate,
    scales: { x: { time: true } },
    axes: [time.axis, { label: "kW" }],
    series: [time.series, { label: "kW", stroke: "#2563eb", fill: "rgba(37,99,235,0.12)", width: 2 }]
  }, [series.map(function (p) { return p[0]; }), series.map(function (p) { return p[1] / 1000; })], node);
})();
