/* The map: one marker per station at its site, coloured by live state, clustered when many;
 * a click opens the station.  Markers follow the live feed. */
(function () {
  "use strict";
  var Live = window.ChargegridLive;
  var labels = Live.readJSON(document, "live-i18n");
  var data = Live.readJSON(document, "map-data");
  var SEVERITY = ["faulted", "offline", "unavailable", "finished", "reserved", "preparing", "charging", "available"];

  var map = L.map("map", { preferCanvas: false });
  L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);

  function worst(states) {
    for (var i = 0; i < SEVERITY.length; i++) {
      if (states.indexOf(SEVERITY[i]) !== -1) return SEVERITY[i];
    }
    return "unavailable";
  }

  var cluster = L.markerClusterGroup({
    maxClusterRadius: 45,
    disableClusteringAtZoom: 17,
    // A cluster is a ring of its stations' states (worst first) around their number.
    iconCreateFunction: function (group) {
      var states = group.getAllChildMarkers().map(function (m) { return m.options.state; });
      var total = states.length;
      var stops = [];
      var start = 0;
      SEVERITY.forEach(function (state) {
        var count = states.filter(function (s) { return s === state; }).length;
        if (!count) return;
        var end = start + (count / total) * 100;
        stops.push("var(--" + state + ") " + start.toFixed(2) + "% " + end.toFixed(2) + "%");
        start = end;
      });
      return L.divIcon({
        html: '<span class="ring" style="background: conic-gradient(' + stops.join(", ") +
          ')"><span class="number">' + total + "</span></span>",
        className: "station-cluster " + worst(states),
        iconSize: L.point(40, 40)
      });
    }
  });
  var markers = {};

  function stationUrl(id) { return labels.stationUrl.replace("/0/", "/" + id + "/"); }

  function icon(station) {
    return L.divIcon({
      className: "station-marker " + station.state,
      html: '<span data-station="' + station.station_id + '" data-state="' + station.state + '"></span>',
      iconSize: [18, 18]
    });
  }

  function tooltip(station) {
    var node = document.createElement("div");
    var name = document.createElement("strong");
    name.textContent = station.name;
    var site = document.createElement("div");
    site.textContent = station.site || "";
    var stateLine = document.createElement("div");
    stateLine.textContent = labels.states[station.state] || station.state;
    node.append(name, site, stateLine);
    return node;
  }

  function place(station) {
    if (station.lat === null || station.lon === null) return;
    var marker = L.marker([station.lat, station.lon], {
      icon: icon(station), title: station.name, state: station.state, keyboard: true
    });
    marker.station = station;
    marker.bindTooltip(tooltip(station));
    marker.on("click", function () { window.location.href = stationUrl(station.station_id); });
    markers[station.station_id] = marker;
    cluster.addLayer(marker);
  }

  function placeAll(stations) {
    cluster.clearLayers();
    markers = {};
    stations.forEach(place);
  }

  placeAll(data.stations);
  map.addLayer(cluster);
  var bounds = cluster.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 });
  } else {
    map.setView([45.5, -73.57], 5);
  }

  // For people debugging in the console, and for the browser tests.
  window.chargegridMap = { map: map, cluster: cluster, markers: function () { return markers; } };

  Live.connect({
    onMessage: function (message) {
      if (message.kind !== "station") return;
      var marker = markers[message.station_id];
      if (!marker) return; // a station without coordinates, or new since the page loaded
      var station = marker.station;
      station.state = message.state;
      station.is_online = message.is_online;
      station.name = message.name;
      marker.options.state = message.state;
      marker.setIcon(icon(station));
      marker.setTooltipContent(tooltip(station));
      cluster.refreshClusters(marker);
    },
    onResync: function (doc) {
      var fresh = Live.readJSON(doc, "map-data");
      if (fresh) placeAll(fresh.stations);
    }
  });
})();
