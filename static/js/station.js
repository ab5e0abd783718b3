/* The station page: port statuses and the current sessions' power charts follow the live
 * feed; when a session starts or ends the sessions panel is fetched again (once per event). */
(function () {
  "use strict";
  var Live = window.ChargegridLive;
  var labels = Live.readJSON(document, "live-i18n");
  var root = document.getElementById("station");
  var stationId = parseInt(root.dataset.station, 10);
  var charts = {};

  function badge(node, state) {
    if (!node) return;
    node.className = "status " + state;
    node.dataset.state = state;
    node.textContent = labels.states[state] || state;
  }

  function chartFor(container) {
    var sessionId = container.dataset.session;
    var series = (Live.readJSON(document, "power-series") || {})[sessionId] || [];
    var xs = series.map(function (p) { return p[0]; });
    var ys = series.map(function (p) { return p[1] / 1000; });
    var width = Math.max(280, container.clientWidth || 600);
    var zone = root.dataset.timezone || "UTC";
    var time = Live.timeChart(zone);
    var plot = new uPlot({
      width: width,
      height: 180,
      // The site's clock and the reader's language, like every time on the page.
      tzDate: time.tzDate,
      scales: { x: { time: true } },
      axes: [time.axis, { label: "kW" }],
      series: [time.series, { label: "kW", stroke: "#2563eb", fill: "rgba(37,99,235,0.12)", width: 2 }]
    }, [xs, ys], container);
    charts[sessionId] = { plot: plot, xs: xs, ys: ys, node: container };
    container.dataset.points = xs.length;
  }

  function initCharts() {
    Object.keys(charts).forEach(function (id) { charts[id].plot.destroy(); });
    charts = {};
    document.querySelectorAll(".power-chart[data-session]").forEach(chartFor);
  }

  var refreshing = false;
  var pending = []; // power messages that arrive while the sessions panel is re-read

  function onPower(message) {
    if (message.station_id !== stationId || !message.session_id) return;
    if (refreshing) { pending.push(message); return; }
    var chart = charts[String(message.session_id)];
    var row = document.querySelector('[data-session-row="' + message.session_id + '"]');
    if (row) {
      var energy = row.querySelector("[data-energy]");
      if (energy && message.energy_wh !== null) energy.textContent = Live.formatKwh(message.energy_wh);
      var power = row.querySelector("[data-power]");
      if (power && message.power_w !== null) power.textContent = Live.formatKw(message.power_w);
    }
    if (!chart || message.power_w === null || message.power_w === undefined) return;
    var at = Date.parse(message.at) / 1000;
    if (chart.xs.length && at <= chart.xs[chart.xs.length - 1]) return; // already drawn
    chart.xs.push(at);
    chart.ys.push(message.power_w / 1000);
    chart.plot.setData([chart.xs, chart.ys]);
    chart.node.dataset.points = chart.xs.length;
  }

  function onStation(message) {
    if (message.station_id !== stationId) return;
    badge(document.getElementById("station-state"), message.header_state || message.state);
    var online = document.getElementById("station-online");
    if (online) {
      online.dataset.online = message.is_online ? "1" : "0";
      online.textContent = message.is_online ? online.dataset.labelOnline : online.dataset.labelOffline;
    }
    message.evses.forEach(function (port) {
      var row = document.querySelector('[data-evse="' + port.evse_id + '"]');
      if (!row) return;
      badge(row.querySelector(".status"), port.state);
      var status = row.querySelector("[data-ocpp-status]");
      if (status) status.textContent = port.status;
    });
  }

  var again = false;
  function refreshSessions() {
    var panel = document.getElementById("sessions-panel");
    if (!panel) return;
    if (refreshing) { again = true; return; } // read once more when this one is done
    refreshing = true;
    fetch(panel.dataset.url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null) {
          panel.innerHTML = html;
          if (window.htmx) window.htmx.process(panel);
          initCharts();
        }
        refreshing = false;
        var replay = pending;
        pending = [];
        replay.forEach(onPower);
        if (again) { again = false; refreshSessions(); }
      })
      .catch(function () {
        refreshing = false;
        pending = [];
      });
  }

  // A command the server could not carry out (an error page, a lost connection) still
  // gets an answer on the page.
  function commandFailed(text) {
    var box = document.getElementById("command-result");
    if (!box) return;
    var outcome = document.createElement("div");
    outcome.className = "outcome failed";
    outcome.textContent = text;
    box.replaceChildren(outcome);
  }
  document.body.addEventListener("htmx:responseError", function (event) {
    commandFailed(labels.commandFailed + " (HTTP " + event.detail.xhr.status + ")");
  });
  document.body.addEventListener("htmx:sendError", function () {
    commandFailed(labels.commandFailed);
  });

  // A remote start is answered at once ("sent"); a worker waits for the station and its
  // answer comes on the live feed with the pending outcome's ref, possibly before htmx has
  // put the outcome on the page (kept here until then).  The session follows as a
  // "session" message.
  var answers = {};
  function showAnswer(node, message) {
    node.classList.remove("pending");
    node.classList.add(message.ok ? "ok" : "failed");
    node.dataset.status = message.status;
    if (message.action) node.dataset.action = message.action;
    var strong = node.querySelector("strong");
    if (strong && message.action) strong.textContent = message.action;
    var answer = node.querySelector(".answer");
    if (answer) answer.textContent = message.message;
  }
  function onCommand(message) {
    if (message.station_id !== stationId || !message.ref) return;
    var node = document.querySelector('[data-command-ref="' + message.ref + '"]');
    if (node) showAnswer(node, message);
    else answers[message.ref] = message;
  }
  function onSessionStarted(message) {
    if (message.event !== "started") return;
    document.querySelectorAll("[data-command-ref][data-evse='" + message.evse_id + "']").forEach(function (node) {
      if (node.dataset.session) return;
      node.dataset.session = String(message.session_id);
      node.classList.remove("pending", "failed");
      node.classList.add("ok");
      node.dataset.status = "Started";
      var answer = node.querySelector(".answer");
      if (answer) answer.textContent = node.dataset.labelStarted;
    });
  }
  document.body.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("[data-command-ref]").forEach(function (node) {
      var early = answers[node.dataset.commandRef];
      if (early) { delete answers[node.dataset.commandRef]; showAnswer(node, early); }
      if (node.dataset.watched) return;
      node.dataset.watched = "1";
      // The station answers within the OCPP timeout (30 s); past that, say so.
      window.setTimeout(function () {
        if (!node.classList.contains("pending")) return;
        var answer = node.querySelector(".answer");
        if (answer) answer.textContent = node.dataset.labelTimeout;
      }, 45000);
    });
  });

  initCharts();
  Live.connect({
    power: String(stationId),
    onMessage: function (message) {
      if (message.kind === "station") onStation(message);
      else if (message.kind === "power") onPower(message);
      else if (message.kind === "session" && message.station_id === stationId) {
        onSessionStarted(message);
        refreshSessions();
      }
      else if (message.kind === "command") onCommand(message);
      else if (message.kind === "alert" && message.station_id === stationId) refreshSessions();
    },
    onResync: function (doc) {
      var fresh = doc.getElementById("station");
      if (fresh) {
        document.getElementById("station").innerHTML = fresh.innerHTML;
        initCharts();
        if (window.htmx) window.htmx.process(document.getElementById("station"));
      }
    }
  });
})();
