// Behaviour every portal page shares, bound here rather than in inline handlers (the
// Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  // The language menu applies the choice at once.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("form.lang select[name=language]")) {
      select.form.submit();
    }
  });
  // A form with data-confirm asks before it is sent (revoking a role or an API key...).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
