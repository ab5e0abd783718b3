/* Report page: the energy per day (bars of kWh) and the peak power, drawn with the vendored
 * uPlot from the JSON the page carries; an export job's progress bar polls its status. */
(function () {
  "use strict";

  function chart(box) {
    var data = JSON.parse(document.getElementById("report-chart-data").textContent);
    if (!data || !data.days || !data.days.length || !window.uPlot) return;
    var xs = data.days.map(function (day) { return Date.parse(day + "T12:00:00Z") / 1000; });
    var width = Math.max(260, box.clientWidth || 720);
    // Days (placed at noon UTC) named in the reader's language, not uPlot's US style.
    var Live = window.ChargegridLive;
    var lang = document.documentElement.lang || undefined;
    var day = Live ? {
      values: function (u, splits) {
        return splits.map(function (ts) { return Live.axisLabel(ts, lang, "UTC", 86400); });
      }
    } : {};
    var plot = new window.uPlot({
      width: width,
      height: 260,
      tzDate: function (ts) { return window.uPlot.tzDate(new Date(ts * 1000), "UTC"); },
      series: [
        Live ? { value: function (u, ts) { return ts === null ? "—" : Live.axisLabel(ts, lang, "UTC", 86400); } } : {},
        { label: data.labels.energy, stroke: "#27c", fill: "rgba(34,119,204,.15)", width: 2 },
        { label: data.labels.peak, stroke: "#c63", dash: [4, 4], scale: "kw" }
      ],
      axes: [day, { label: "kWh" }, { side: 1, scale: "kw", label: "kW", grid: { show: false } }]
    }, [xs, data.energy_kwh, data.peak_kw], box);
    box.dataset.drawn = "1";
    window.addEventListener("resize", function () {
      plot.setSize({ width: Math.max(260, box.clientWidth), height: 260 });
    });
  }

  function follow(job) {
    var bar = job.querySelector("progress");
    var status = job.querySelector("[data-field=status]");
    var link = job.querySelector("a.download");
    function poll() {
      fetch(job.dataset.statusUrl, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (state) {
          bar.value = state.progress;
          status.textContent = state.status_label;
          if (state.status === "done") {
            link.href = state.download_url;
            link.hidden = false;
          } else if (state.status !== "failed") {
            window.setTimeout(poll, 700);
          }
        })
        .catch(function () { window.setTimeout(poll, 2000); });
    }
    poll();
  }

  var box = document.getElementById("report-chart");
  if (box) chart(box);
  Array.prototype.forEach.call(document.querySelectorAll("[data-export-job]"), follow);
})();
