/* The driver page: offers browser notifications (Web Push) when the server has VAPID keys
 * and the browser supports push; the subscription is sent to the notification service. */
(function () {
  "use strict";
  var button = document.getElementById("push-enable");
  if (!button || !("serviceWorker" in navigator) || !("PushManager" in window)) return;
  var url = button.dataset.pushUrl;
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  fetch(url, { credentials: "same-origin" })
    .then(function (response) { return response.json(); })
    .then(function (data) {
      if (!data.vapid_public_key) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.serviceWorker.register(button.dataset.sw)
          .then(function (registration) {
            return registration.pushManager.subscribe({
              userVisibleOnly: true,
              applicationServerKey: keyBytes(data.vapid_public_key)
            });
          })
          .then(function (subscription) {
            return fetch(url, {
              method: "POST",
              credentials: "same-origin",
              headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
              body: JSON.stringify(subscription)
            });
          })
          .then(function () { button.disabled = true; })
          .catch(function () {});
      });
    })
    .catch(function () {});
})();

/* The driver's place, pushed by the server (/ws/waitlist/<signed>/, apps/waitlist/consumers.py)
 * whenever the queue changes: position, expected wait, "your port is held".  No polling; the
 * socket reconnects with back-off (and the server sends the current place on connect). */
(function () {
  "use strict";
  var place = document.getElementById("waitlist-place");
  if (!place || !place.dataset.liveUrl || !("WebSocket" in window)) return;
  var delay = 1000;

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var lang = document.documentElement.lang || "";
    var socket = new WebSocket(
      scheme + window.location.host + place.dataset.liveUrl + "?lang=" + encodeURIComponent(lang)
    );
    socket.onopen = function () {
      delay = 1000;
      place.dataset.live = "1";
    };
    socket.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (error) { return; }
      if (message.kind === "place" && typeof message.html === "string") {
        place.innerHTML = message.html;
        place.dataset.updated = String(Date.now());
      }
    };
    socket.onclose = function (event) {
      delete place.dataset.live;
      if (event.code === 1006 || event.code === 1000 || event.code === 1001 || event.code === 1011) {
        window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      }
    };
  }
  connect();
})();
