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
