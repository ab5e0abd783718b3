/* The site form's map picker: a click (or dragging the marker) writes the latitude and
 * longitude fields; typing in them moves the marker.  Without the map (no tiles, no script)
 * the two fields still work on their own. */
(function () {
  "use strict";
  var element = document.getElementById("site-map");
  var latInput = document.querySelector("[data-map-lat]");
  var lonInput = document.querySelector("[data-map-lon]");
  if (!element || !latInput || !lonInput || !window.L) return;
  var tiles = JSON.parse(document.getElementById("map-tiles").textContent);

  function typed() {
    var lat = parseFloat(latInput.value);
    var lon = parseFloat(lonInput.value);
    if (isNaN(lat) || isNaN(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    return L.latLng(lat, lon);
  }

  var start = typed();
  var map = L.map(element).setView(start || [20, 0], start ? 15 : 2);
  L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: 19 }).addTo(map);
  var marker = null;

  function place(latlng) {
    if (marker) {
      marker.setLatLng(latlng);
    } else {
      marker = L.marker(latlng, { draggable: true }).addTo(map);
      marker.on("dragend", function () { write(marker.getLatLng()); });
    }
  }

  function write(latlng) {
    latInput.value = latlng.lat.toFixed(6);
    lonInput.value = L.Util.wrapNum(latlng.lng, [-180, 180], true).toFixed(6);
  }

  if (start) place(start);
  map.on("click", function (event) {
    place(event.latlng);
    write(event.latlng);
  });
  [latInput, lonInput].forEach(function (input) {
    input.addEventListener("change", function () {
      var latlng = typed();
      if (latlng) {
        place(latlng);
        map.panTo(latlng);
      }
    });
  });
})();
