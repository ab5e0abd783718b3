// Support pages: a canned answer fills the reply box; commands and deletions ask first.
(function () {
  "use strict";
  var canned = document.getElementById("canned-answer");
  var body = document.getElementById("id_body");
  if (canned && body) {
    canned.addEventListener("change", function () {
      var option = canned.options[canned.selectedIndex];
      var text = option ? option.getAttribute("data-body") : "";
      if (text) {
        body.value = body.value ? body.value.replace(/\s+$/, "") + "\n\n" + text : text;
        body.focus();
      }
    });
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
})();
