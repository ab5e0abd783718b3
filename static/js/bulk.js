/* A bulk command's page: each station's outcome arrives on the live feed (kind
 * "bulk_command") and moves the progress bar and its row, without reloading. */
(function () {
  "use strict";
  var Live = window.ChargegridLive;
  var box = document.getElementById("bulk-job");
  if (!box || !Live) return;
  var jobId = parseInt(box.dataset.job, 10);
  var labels = Live.readJSON(document, "bulk-labels") || {};

  function set(id, value) {
    var node = document.getElementById(id);
    if (node) node.textContent = value;
  }

  function onMessage(message) {
    if (message.kind !== "bulk_command" || message.job_id !== jobId) return;
    var bar = document.getElementById("bulk-progress");
    bar.max = message.total;
    bar.value = message.done;
    bar.textContent = message.done + "/" + message.total;
    set("bulk-done", message.done);
    set("bulk-ok", message.ok);
    set("bulk-failed", message.failed);
    var row = document.querySelector('tr[data-station="' + message.station_id + '"]');
    if (!row) return;
    row.dataset.status = message.item_status;
    row.querySelector(".outcome").textContent = labels[message.item_status] || message.item_status;
    row.querySelector(".answer").textContent = message.message || message.answer;
  }

  Live.connect({
    onMessage: onMessage,
    onResync: function (doc) {
      ["bulk-done", "bulk-ok", "bulk-failed"].forEach(function (id) {
        var fresh = doc.getElementById(id);
        if (fresh) set(id, fresh.textContent);
      });
      var bar = doc.getElementById("bulk-progress");
      if (bar) document.getElementById("bulk-progress").value = bar.value;
      var rows = doc.querySelector("table.bulk-items tbody");
      if (rows) document.querySelector("table.bulk-items tbody").innerHTML = rows.innerHTML;
    }
  });
})();
