/* Capacity planner: the load over a local day (highest as it was, highest and average
 * simulated with the ports asked about) against the room on the panel, drawn with the
 * vendored uPlot from the JSON the page carries. */
(function () {
  "use strict";

  var box = document.getElementById("capacity-chart");
  var source = document.getElementById("capacity-chart-data");
  if (!box || !source || !window.uPlot) return;
  var data = JSON.parse(source.textContent);
  if (!data || !data.times || !data.times.length) return;
  var xs = data.times.map(function (_, index) { return index / 4; });
  var room = data.times.map(function () { return data.room_kw; });
  function hours(u, values) {
    return values.map(function (v) {
      var h = Math.floor(v);
      return (h < 10 ? "0" : "") + h + ":" + (v % 1 ? "30" : "00");
    });
  }
  var plot = new window.uPlot({
    width: Math.max(260, box.clientWidth || 720),
    height: 260,
    scales: { x: { time: false } },
    series: [
      {},
      { label: data.labels.actual, stroke: "#888", width: 1 },
      { label: data.labels.simulated, stroke: "#c63", width: 2 },
      { label: data.labels.mean, stroke: "#27c", fill: "rgba(34,119,204,.15)", width: 2 },
      { label: data.labels.room, stroke: "#a00", dash: [6, 4], width: 2 }
    ],
    axes: [{ values: hours }, { label: "kW" }]
  }, [xs, data.actual_kw, data.simulated_kw, data.mean_kw, room], box);
  box.dataset.drawn = "1";
  window.addEventListener("resize", function () {
    plot.setSize({ width: Math.max(260, box.clientWidth), height: 260 });
  });
})();
