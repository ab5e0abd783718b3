/* The dashboard: port counts, stations online, active sessions, energy today and alerts,
 * kept current from the live feed. */
(function () {
  "use strict";
  var Live = window.ChargegridLive;
  var labels = Live.readJSON(document, "live-i18n");
  var state = null;

  function load(doc) {
    var data = Live.readJSON(doc, "live-data");
    var ports = {};
    data.ports.forEach(function (row) { ports[row[0] + ":" + row[1]] = row[2]; });
    state = {
      ports: ports,
      online: data.online,
      sessions: data.sessions,
      energy: data.energy_today_wh,
      day: data.day,
      timezone: data.timezone
    };
  }

  function render() {
    var counts = {};
    Object.keys(state.ports).forEach(function (key) {
      var s = state.ports[key];
      counts[s] = (counts[s] || 0) + 1;
    });
    document.querySelectorAll("[data-count]").forEach(function (node) {
      node.textContent = counts[node.dataset.count] || 0;
    });
    var ids = Object.keys(state.online);
    document.getElementById("stations-online").textContent =
      ids.filter(function (id) { return state.online[id]; }).length;
    document.getElementById("stations-total").textContent = ids.length;
    document.getElementById("active-sessions").textContent = Object.keys(state.sessions).length;
    var energy = document.getElementById("energy-today");
    energy.dataset.wh = state.energy;
    energy.textContent = Live.formatKwh(state.energy);
  }

  function activity(text, href) {
    var list = document.getElementById("activity");
    var empty = list.querySelector(".empty");
    if (empty) empty.remove();
    var item = document.createElement("li");
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = Live.timeOf();
    item.appendChild(when);
    var link = document.createElement("a");
    link.href = href;
    link.textContent = text;
    item.appendChild(link);
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 12) list.removeChild(list.lastChild);
  }

  var shownStates = {};

  function stationUrl(id) { return labels.stationUrl.replace("/0/", "/" + id + "/"); }

  function onStation(message) {
    state.online[message.station_id] = message.is_online;
    var prefix = message.station_id + ":";
    Object.keys(state.ports).forEach(function (key) {
      if (key.indexOf(prefix) === 0) delete state.ports[key];
    });
    message.evses.forEach(function (port) { state.ports[prefix + port.evse_id] = port.state; });
    // One line per change of the station's state: a station repeating a status (or reporting
    // it port after port) sends the same state again, which is not news.
    if (shownStates[message.station_id] === message.state) return;
    shownStates[message.station_id] = message.state;
    activity(message.name + " — " + (labels.states[message.state] || message.state),
      stationUrl(message.station_id));
  }

  function addEnergy(sessionId, energy) {
    if (energy === null || energy === undefined) return;
    if (!(sessionId in state.sessions)) return; // started before this page knew it
    var delta = energy - state.sessions[sessionId];
    if (delta > 0) state.energy += delta;
    state.sessions[sessionId] = Math.max(energy, state.sessions[sessionId]);
  }

  function onSession(message) {
    var id = String(message.session_id);
    if (message.event === "started") {
      if (!(id in state.sessions)) state.sessions[id] = 0;
      addEnergy(id, message.energy_wh);
      activity(labels.started + " — " + labels.port + " " + message.evse_id, stationUrl(message.station_id));
    } else {
      addEnergy(id, message.energy_wh);
      delete state.sessions[id];
      activity(labels.ended + " — " + labels.port + " " + message.evse_id, stationUrl(message.station_id));
    }
  }

  function onAlert(message) {
    var list = document.getElementById("recent-alerts");
    var empty = list.querySelector(".empty");
    if (empty) empty.remove();
    var open = document.getElementById("open-alerts");
    var existing = list.querySelector('[data-alert="' + message.alert_id + '"]');
    if (message.event === "cleared") {
      open.textContent = Math.max(0, parseInt(open.textContent, 10) - 1);
      if (existing) {
        existing.classList.remove("open");
        existing.classList.add("cleared");
        var tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = labels.cleared;
        existing.appendChild(tag);
        return;
      }
    } else {
      open.textContent = parseInt(open.textContent, 10) + 1;
    }
    var item = document.createElement("li");
    item.className = "alert-row " + (message.event === "cleared" ? "cleared" : "open");
    item.dataset.alert = message.alert_id;
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = Live.timeOf(message.at);
    var link = document.createElement("a");
    link.href = stationUrl(message.station_id);
    link.textContent = message.title;
    var text = document.createElement("span");
    text.className = "muted";
    text.textContent = message.message;
    item.append(when, " ", link, " ", text);
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 8) list.removeChild(list.lastChild);
  }

  function today() {
    try {
      return new Intl.DateTimeFormat("en-CA", { timeZone: state.timezone }).format(new Date());
    } catch (error) {
      return state.day;
    }
  }

  load(document);
  var feed = Live.connect({
    power: "all",
    onMessage: function (message) {
      if (message.kind === "station") onStation(message);
      else if (message.kind === "session") onSession(message);
      else if (message.kind === "power") addEnergy(String(message.session_id), message.energy_wh);
      else if (message.kind === "alert") onAlert(message);
      render();
    },
    onResync: function (doc) {
      load(doc);
      var fresh = doc.getElementById("recent-alerts");
      if (fresh) document.getElementById("recent-alerts").innerHTML = fresh.innerHTML;
      var alerts = doc.getElementById("open-alerts");
      if (alerts) document.getElementById("open-alerts").textContent = alerts.textContent;
      render();
    }
  });
  // "Today" starts again at the tenant's midnight: read the page once then.
  window.setInterval(function () { if (today() !== state.day) feed.resync(); }, 60000);
})();
