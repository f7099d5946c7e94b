// The Connector Factory wizard, made immediate: everything here also works without
// JavaScript, through a submit (see apps/connector_factory/forms.py).
(function () {
  "use strict";

  // Pagination: show only the chosen type's options, and tell the server they were shown.
  function attachPagination(resource) {
    var select = resource.querySelector("select[name$='-pagination_type']");
    var shown = resource.querySelector(".pagination-shown");
    if (!select) return;
    function update() {
      resource.querySelectorAll(".pagination-group").forEach(function (group) {
        group.hidden = group.dataset.type !== select.value;
      });
      if (shown) shown.value = select.value;
    }
    select.addEventListener("change", update);
    update();
  }

  // Export body: the wrap key for "wrapped", the template for "template".
  function attachBodyShape(resource) {
    var select = resource.querySelector("select[name$='-body_shape']");
    if (!select) return;
    function update() {
      resource.querySelectorAll("[data-shape]").forEach(function (row) {
        row.hidden = row.dataset.shape !== select.value;
      });
    }
    select.addEventListener("change", update);
    update();
  }

  // Processes: the import and export sections of the chosen processes only.
  function attachProcesses(resource) {
    var boxes = resource.querySelectorAll("input[name$='-processes']");
    function update() {
      boxes.forEach(function (box) {
        var section = resource.querySelector(".process-section[data-process='" + box.value + "']");
        if (section) section.hidden = !box.checked;
      });
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  }

  function attachResource(resource) {
    attachPagination(resource);
    attachBodyShape(resource);
    attachProcesses(resource);
  }

  // "Add a row" / "Add a resource": a new form from the empty one, without a round trip.
  function attachFormset(container) {
    var prefix = container.dataset.formset;
    var button = container.querySelector(".formset-add");
    var template = container.querySelector("template.formset-empty");
    var rows = container.querySelector(".formset-rows");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    if (!button || !template || !rows || !total) return;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var index = parseInt(total.value, 10) || 0;
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement(rows.tagName === "TBODY" ? "tbody" : "div");
      holder.innerHTML = html;
      Array.prototype.slice.call(holder.children).forEach(function (child) {
        rows.appendChild(child);
        if (child.classList.contains("resource-form")) attachResource(child);
      });
      total.value = String(index + 1);
      var first = rows.lastElementChild && rows.lastElementChild.querySelector("input[type=text]");
      if (first) first.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".connector-wizard .resource-form").forEach(function (resource) {
      if (!resource.closest("template")) attachResource(resource);
    });
    document.querySelectorAll(".connector-wizard [data-formset]").forEach(attachFormset);
  });
})();
