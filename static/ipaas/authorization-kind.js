// On the authorization form, show only the fieldsets of the chosen kind
// (fieldsets carry "kind-<kind>" classes; see apps/security/admin.py).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var kind = document.getElementById("id_kind");
    if (!kind) return;
    var sets = Array.prototype.filter.call(document.querySelectorAll("fieldset"), function (f) {
      return Array.prototype.some.call(f.classList, function (c) { return c.indexOf("kind-") === 0; });
    });
    function update() {
      sets.forEach(function (f) {
        f.style.display = f.classList.contains("kind-" + kind.value) ? "" : "none";
      });
    }
    kind.addEventListener("change", update);
    update();
  });
})();
