/* Power pages.  The site page follows the live feed: after every rebalance the server sends a
 * ``power_tree`` message (per node its limit and what is allocated / drawn per line, per port
 * its limit and why) and the cells are updated in place.  The node page draws its history
 * (drawn against the limit) with the vendored uPlot.  Nothing is fetched from elsewhere. */
(function () {
  "use strict";
  var Live = window.ChargegridLive;

  function setText(cell, text) {
    if (!cell || cell.textContent === text) return;
    cell.textContent = text;
    cell.classList.add("updated");
    window.setTimeout(function () { cell.classList.remove("updated"); }, 1200);
  }

  function applyTree(message, reasons) {
    Object.keys(message.nodes || {}).forEach(function (pk) {
      var data = message.nodes[pk];
      var item = document.querySelector('[data-node="' + pk + '"]');
      if (!item) return;
      var parts = [];
      if (data.limit_a !== null) parts.push(data.limit_a + " A");
      if (data.limit_kw !== null) parts.push(data.limit_kw + " kW");
      var limit = item.querySelector('.node-limit[data-field="limit"]');
      if (parts.length) setText(limit, parts.join(" "));
      var table = item.querySelector('[data-lines="' + pk + '"]');
      if (!table) return;
      ["allocated", "drawn"].forEach(function (field) {
        (data[field + "_a"] || []).forEach(function (value, index) {
          setText(table.querySelector('[data-field="' + field + '"][data-line="' + (index + 1) + '"]'), value);
        });
      });
    });
    Object.keys(message.evses || {}).forEach(function (pk) {
      var data = message.evses[pk];
      var row = document.querySelector('tr[data-evse="' + pk + '"]');
      if (!row) return;
      setText(row.querySelector('[data-field="limit"]'), data.limit_a === null ? "—" : data.limit_a + " A");
      var reason = row.querySelector('[data-field="reason"]');
      if (reason) {
        var label = (reasons && reasons[data.reason]) || data.reason;
        var text = label + (data.node ? " (" + data.node + ")" : "");
        if (reason.textContent.replace(/\s+/g, " ").trim() !== text) {
          reason.textContent = "";
          var span = document.createElement("span");
          span.className = "reason reason-" + data.reason;
          span.textContent = label;
          reason.appendChild(span);
          if (data.node) {
            var where = document.createElement("span");
            where.className = "muted small";
            where.textContent = " (" + data.node + ")";
            reason.appendChild(where);
          }
          reason.classList.add("updated");
        }
      }
      setText(row.querySelector('[data-field="drawn"]'), data.draw_a === null ? "—" : data.draw_a + " A");
    });
    var tree = document.getElementById("power-tree");
    if (tree) tree.dataset.updatedAt = message.at || "";
  }

  function sitePage(tree) {
    var site = tree.dataset.site;
    var reasons = Live.readJSON(document, "power-reasons") || {};
    Live.connect({
      onMessage: function (message) {
        if (message.kind === "power_tree" && String(message.site_id) === site) applyTree(message, reasons);
      },
      onResync: function (doc) {
        var fresh = doc.getElementById("power-tree");
        if (fresh) tree.innerHTML = fresh.innerHTML;
      }
    });
  }

  function historyChart(box) {
    var points = Live ? Live.readJSON(document, "power-history") : JSON.parse(document.getElementById("power-history").textContent);
    var labels = JSON.parse(document.getElementById("power-history-labels").textContent);
    if (!points || !points.length || !window.uPlot) return;
    var data = [
      points.map(function (p) { return p.t; }),
      points.map(function (p) { return p.drawn; }),
      points.map(function (p) { return p.peak; }),
      points.map(function (p) { return p.allocated; }),
      points.map(function (p) { return p.limit; })
    ];
    var width = Math.max(320, box.clientWidth || 720);
    // The site's clock and the reader's language (uPlot alone: the browser's zone, US style).
    var time = Live ? Live.timeChart(box.dataset.timezone || "UTC") : null;
    new window.uPlot({
      width: width,
      height: 260,
      tzDate: time ? time.tzDate : undefined,
      series: [
        time ? time.series : {},
        { label: labels.drawn, stroke: "#2a7", width: 2 },
        { label: labels.peak, stroke: "#7c5", dash: [4, 4] },
        { label: labels.allocated, stroke: "#27c" },
        { label: labels.limit, stroke: "#c33", width: 2 }
      ],
      axes: [time ? time.axis : {}, { label: "kW" }]
    }, data, box);
    box.dataset.drawn = "1";
  }

  var tree = document.getElementById("power-tree");
  if (tree && Live) sitePage(tree);
  var chart = document.getElementById("power-history-chart");
  if (chart) historyChart(chart);
})();
