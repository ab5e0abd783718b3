/* The live feed of the portal: one websocket to /ws/live/, reconnected with back-off.
 * After a reconnect the page re-reads its own HTML once (what it missed while away):
 * updates come from the server's pushes, never from polling. */
(function () {
  "use strict";

  function readJSON(doc, id) {
    var node = doc.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function setIndicator(state) {
    var node = document.getElementById("live-indicator");
    if (!node) return;
    node.classList.remove("connecting", "live", "offline");
    node.classList.add(state);
    node.dataset.state = state;
    if (state === "live") node.textContent = node.dataset.labelLive;
    if (state === "offline") node.textContent = node.dataset.labelOffline;
  }

  function connect(options) {
    var delay = 1000;
    var opened = false;
    var socket = null;
    var stopped = false;

    function url() {
      var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      var query = options.power ? "?power=" + encodeURIComponent(options.power) : "";
      return scheme + "//" + window.location.host + "/ws/live/" + query;
    }

    function resync() {
      if (!options.onResync) return;
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live-Resync": "1" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html) options.onResync(new DOMParser().parseFromString(html, "text/html"));
        })
        .catch(function () {});
    }

    function open() {
      socket = new WebSocket(url());
      socket.onopen = function () {
        delay = 1000;
        setIndicator("live");
        if (opened) resync();
        opened = true;
        document.dispatchEvent(new CustomEvent("live:open"));
      };
      socket.onmessage = function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (error) { return; }
        options.onMessage(message);
        document.dispatchEvent(new CustomEvent("live:message", { detail: message }));
      };
      socket.onclose = function (event) {
        setIndicator("offline");
        if (stopped || event.code === 4403) return; // signed out or role revoked
        window.setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }

    open();
    return {
      send: function (data) {
        if (socket && socket.readyState === 1) socket.send(JSON.stringify(data));
      },
      stop: function () { stopped = true; if (socket) socket.close(); },
      resync: resync
    };
  }

  function timeOf(iso) {
    var date = iso ? new Date(iso) : new Date();
    return date.toLocaleTimeString(document.documentElement.lang || undefined);
  }

  function formatKwh(wh) {
    var lang = document.documentElement.lang || undefined;
    return (wh / 1000).toLocaleString(lang, { minimumFractionDigits: 3, maximumFractionDigits: 3 }) + " kWh";
  }

  function formatKw(watts) {
    var lang = document.documentElement.lang || undefined;
    if (watts === null || watts === undefined) return "—";
    return (watts / 1000).toLocaleString(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " kW";
  }

  // Intl formatters are costly to build: one per (language, zone, options).
  var formatters = {};
  function formatter(lang, zone, options) {
    var key = [lang || "", zone || "", JSON.stringify(options)].join("|");
    if (!formatters[key]) {
      var full = Object.assign({}, options);
      if (zone) full.timeZone = zone;
      try {
        formatters[key] = new Intl.DateTimeFormat(lang || undefined, full);
      } catch (error) { // an unknown zone: the reader's language in UTC
        full.timeZone = "UTC";
        formatters[key] = new Intl.DateTimeFormat(lang || undefined, full);
      }
    }
    return formatters[key];
  }

  var DATE = { day: "numeric", month: "short" };
  var TIME = { hour: "2-digit", minute: "2-digit" };
  var MOMENT = { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" };

  // A time axis label in the reader's language and the page's time zone (uPlot's own labels
  // are US-style: "12/8" and "1:30pm" on a French page).  ``step`` is the distance between
  // ticks in seconds: a day or more shows the date, less shows the time.
  function axisLabel(ts, lang, zone, step) {
    return formatter(lang, zone, step >= 86400 ? DATE : TIME).format(new Date(ts * 1000));
  }

  // The date of a moment in the zone (to see where a day begins on the axis).
  function dayOf(ts, lang, zone) {
    return formatter(lang, zone, DATE).format(new Date(ts * 1000));
  }

  // The labels of an axis: hours under a day apart also name the date on the first tick and
  // on the first tick of each new day ("10:30" / "8 déc.", on two lines).
  function axisLabels(splits, lang, zone, step) {
    var previous = null;
    return splits.map(function (ts) {
      var label = axisLabel(ts, lang, zone, step);
      if (step < 86400) {
        var day = dayOf(ts, lang, zone);
        if (day !== previous) label += "\n" + day;
        previous = day;
      }
      return label;
    });
  }

  // The x axis of a uPlot time chart, labelled by ``axisLabels``.
  function timeAxis(zone) {
    var lang = document.documentElement.lang || undefined;
    return {
      values: function (u, splits, axisIdx, space, step) {
        return axisLabels(splits, lang, zone, step);
      }
    };
  }

  // A moment in full (the legend under a chart, where the cursor is).
  function momentLabel(ts, lang, zone) {
    return formatter(lang, zone, MOMENT).format(new Date(ts * 1000));
  }

  // Everything a uPlot time chart needs to read in the site's zone and the reader's language:
  // ``tzDate`` (ticks on the site's hours and midnights), the x axis and the x series (the
  // legend).  Use: ``var t = Live.timeChart(zone); new uPlot({tzDate: t.tzDate,
  // axes: [t.axis, ...], series: [t.series, ...]})``.
  function timeChart(zone) {
    var lang = document.documentElement.lang || undefined;
    zone = zone || "UTC";
    return {
      tzDate: function (ts) {
        try { return window.uPlot.tzDate(new Date(ts * 1000), zone); }
        catch (error) { return new Date(ts * 1000); }
      },
      axis: timeAxis(zone),
      series: {
        value: function (u, ts) { return ts === null || ts === undefined ? "—" : momentLabel(ts, lang, zone); }
      }
    };
  }

  window.ChargegridLive = {
    axisLabel: axisLabel,
    axisLabels: axisLabels,
    momentLabel: momentLabel,
    timeAxis: timeAxis,
    timeChart: timeChart,
    connect: connect,
    readJSON: readJSON,
    timeOf: timeOf,
    formatKwh: formatKwh,
    formatKw: formatKw
  };
})();
