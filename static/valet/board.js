/* The valet board re-reads its rows whenever its site's ports or sessions change (the live
 * feed's "valet" messages), and after a reconnect. */
(function () {
  "use strict";
  var board = document.getElementById("valet-board");
  if (!board || !window.ChargegridLive) return;
  var site = board.dataset.site;
  var pending = null;

  function refresh() {
    if (pending) return;
    pending = window.setTimeout(function () {
      pending = null;
      fetch(board.dataset.rowsUrl, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) return;
          board.innerHTML = html;
          board.dataset.refreshed = String(Date.now());
        })
        .catch(function () {});
    }, 150);
  }

  window.ChargegridLive.connect({
    onMessage: function (message) {
      if (message.kind === "valet" && String(message.site_id) === site) refresh();
    },
    onResync: function () { refresh(); }
  });
})();
