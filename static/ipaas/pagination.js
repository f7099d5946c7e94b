// The pagination editor: show only the options of the chosen type.
(function () {
  "use strict";
  function attach(editor) {
    var select = editor.querySelector(".pagination-type");
    function show() {
      editor.querySelectorAll(".pagination-options").forEach(function (group) {
        group.hidden = group.dataset.type !== select.value;
      });
    }
    select.addEventListener("change", show);
    show();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".pagination-editor").forEach(attach);
  });
})();
