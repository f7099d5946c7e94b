// Live JSON check and a "Format" button under every .json-editor textarea.
(function () {
  "use strict";
  function attach(area) {
    if (area.dataset.jsonEditor) return;
    area.dataset.jsonEditor = "1";
    var bar = document.createElement("div");
    bar.className = "json-editor-bar";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button json-editor-format";
    button.textContent = "Format";
    var status = document.createElement("span");
    status.className = "json-editor-status";
    bar.appendChild(button);
    bar.appendChild(status);
    // The textarea and its bar in one box: in the admin's flex rows a long message
    // beside the textarea would squeeze it.
    var box = document.createElement("div");
    box.className = "json-editor-box";
    area.parentNode.insertBefore(box, area);
    box.appendChild(area);
    box.appendChild(bar);
    function check() {
      try {
        JSON.parse(area.value || "null");
        status.textContent = "valid JSON";
        status.title = "";
        status.className = "json-editor-status ok";
        return true;
      } catch (e) {
        status.textContent = "invalid JSON: " + e.message;
        status.title = e.message;  // the whole message, when it is cut
        status.className = "json-editor-status error";
        return false;
      }
    }
    button.addEventListener("click", function () {
      if (check()) area.value = JSON.stringify(JSON.parse(area.value || "null"), null, 2);
    });
    area.addEventListener("input", check);
    area.addEventListener("keydown", function (e) {
      if (e.key === "Tab") {  // indent instead of leaving the field
        e.preventDefault();
        var s = area.selectionStart;
        area.setRangeText("  ", s, area.selectionEnd, "end");
      }
    });
    check();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea.json-editor").forEach(attach);
  });
})();
