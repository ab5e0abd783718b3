/* The valet board re-reads its rows whenever its site's ports or sessions change (the live
 * feed's "valet" messages), after a reconnect, and when an accruing idle fee next goes up
 * (the rows' data-next-change, a Unix time from the server: no blind polling). */
(function () {
  "use strict";
  var board = document.getElementById("valet-board");
  if (!board || !window.ChargegridLive) return;
  var site = board.dataset.site;
  var pending = null;
  var feeTimer = null;

  function scheduleFeeTick() {
    if (feeTimer) window.clearTimeout(feeTimer);
    feeTimer = null;
    var table = board.querySelector("[data-next-change]");
    if (!table) return;
    var wait = Number(table.dataset.nextChange) * 1000 - Date.now();
    feeTimer = window.setTimeout(refresh, Math.min(Math.max(wait, 1000), 3600000));
  }

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
          scheduleFeeTick();
        })
        .catch(function () {});
    }, 150);
  }

  scheduleFeeTick();
  window.ChargegridLive.connect({
    onMessage: function (message) {
      if (message.kind === "valet" && String(message.site_id) === site) refresh();
    },
    onResync: function () { refresh(); }
  });
})();
