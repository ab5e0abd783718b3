/* The public finder and a station's page: the map (Leaflet, optional: the list works without
   it or its tiles), "use my location", and live availability pushed on /ws/drivers/finder/. */
(function () {
  "use strict";
  var CONNECTORS = {cType1: "SAE J1772 (Type 1)", cType2: "IEC 62196 Type 2", cCCS1: "CCS1",
    cCCS2: "CCS2", cChaoJi: "CHAdeMO", cNACS: "NACS (SAE J3400)", Other: "Other"};
  var markers = {};
  var map = null;

  function colour(station) {
    if (!station.total) { return "#888"; }
    return station.free > 0 ? "#1a7f37" : "#b42318";
  }

  function setupLocate() {
    var button = document.getElementById("locate");
    var form = document.getElementById("finder-form");
    if (!button || !form || !navigator.geolocation) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (position) {
        form.querySelector("[name=lat]").value = position.coords.latitude.toFixed(5);
        form.querySelector("[name=lon]").value = position.coords.longitude.toFixed(5);
        form.querySelector("[name=near]").value = "";
        form.submit();
      }, function () { button.disabled = false; }, {timeout: 10000, maximumAge: 60000});
    });
    form.querySelector("[name=near]").addEventListener("input", function () {
      form.querySelector("[name=lat]").value = "";
      form.querySelector("[name=lon]").value = "";
    });
  }

  function setupMap() {
    var element = document.getElementById("finder-map");
    if (!element || typeof L === "undefined") { return; }
    var tiles = JSON.parse(document.getElementById("map-tiles").textContent);
    map = L.map(element, {preferCanvas: true}).setView([46.5, -72], 5);
    L.tileLayer(tiles.url, {attribution: tiles.attribution, maxZoom: 19}).addTo(map);
    var stationUrl = element.dataset.stationUrl;
    fetchStations().then(function (stations) {
        var bounds = [];
        stations.forEach(function (station) {
          var marker = L.circleMarker([station.lat, station.lon], {
            radius: 7, weight: 1, color: "#fff", fillColor: colour(station), fillOpacity: 0.9
          });
          var link = document.createElement("a");
          link.href = stationUrl.replace("/0/", "/" + station.id + "/");
          link.textContent = station.name + " (" + station.free + "/" + station.total + ")";
          marker.bindPopup(link);
          marker.addTo(map);
          markers[station.id] = marker;
          bounds.push([station.lat, station.lon]);
        });
        var best = document.getElementById("best");
        if (best && markers[best.dataset.station]) {
          map.setView(markers[best.dataset.station].getLatLng(), 13);
        } else if (bounds.length) {
          map.fitBounds(bounds, {maxZoom: 13});
        }
      }).catch(function () { element.hidden = true; });
    window.chargegridFinder = {markers: function () { return markers; }};
  }

  // stations.json: compact rows [id, name, lat, lon, free ports, ports]
  function fetchStations() {
    var element = document.getElementById("finder-map");
    var url = element ? element.dataset.url : null;
    if (!url) { return Promise.resolve([]); }
    return fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (data) {
        return data.stations.map(function (row) {
          return {id: row[0], name: row[1], lat: row[2], lon: row[3], free: row[4], total: row[5]};
        });
      });
  }

  function portText(port) {
    return (CONNECTORS[port[0]] || port[0]) + " " + port[1] + " kW: " + port[2] + "/" + port[3];
  }

  function apply(station) {
    document.querySelectorAll('[data-free="' + station.id + '"]').forEach(function (el) {
      el.textContent = String(station.free);
    });
    document.querySelectorAll('[data-ports="' + station.id + '"]').forEach(function (list) {
      if (!station.ports) { return; }
      list.replaceChildren.apply(list, station.ports.map(function (port) {
        var item = document.createElement("li");
        item.textContent = portText(port);
        return item;
      }));
    });
    document.querySelectorAll('.station-row[data-station="' + station.id + '"]').forEach(function (row) {
      row.classList.toggle("busy", !station.free);
    });
    var marker = markers[station.id];
    if (marker) { marker.setStyle({fillColor: colour(station)}); }
  }

  function connect(delay) {
    var state = document.getElementById("live-state") || document.getElementById("station-live");
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/drivers/finder/");
    socket.onopen = function () {
      delay = 1000;
      if (state) { state.dataset.live = "on"; }
      // what changed between the page's rows and this socket: read the rows again
      fetchStations().then(function (stations) { stations.forEach(apply); }).catch(function () {});
    };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.kind === "station") { apply(message.station); }
    };
    socket.onclose = function () {
      if (state) { state.dataset.live = "off"; }
      setTimeout(function () { connect(Math.min(delay * 2, 30000)); }, delay);
    };
  }

  setupLocate();
  setupMap();
  if (window.WebSocket) { connect(1000); }
})();
