// apptconfirm: small progressive enhancements. No inline script anywhere, so
// the Content-Security-Policy can forbid it.
(function () {
  "use strict";
  // Buttons that ask before they act: <button data-confirm="Cancel this appointment?">.
  document.addEventListener("submit", function (ev) {
    var btn = ev.submitter;
    var msg = (btn && btn.getAttribute("data-confirm")) || ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  });
  // Buttons that fill a text box with a ready text, which staff may change
  // before sending: <button data-fill="answer-3" data-text="...">.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest ? ev.target.closest("button[data-fill]") : null;
    if (!btn) {
      return;
    }
    var box = document.getElementById(btn.getAttribute("data-fill"));
    if (box) {
      box.value = btn.getAttribute("data-text") || "";
      box.focus();
    }
  });
  // Choosing an appointment type in the booking form fills in its usual
  // length: <select data-fills-duration> with <option data-duration="30">.
  document.addEventListener("change", function (ev) {
    var sel = ev.target;
    if (!sel.matches || !sel.matches("select[data-fills-duration]")) {
      return;
    }
    var opt = sel.options[sel.selectedIndex];
    var minutes = opt && opt.getAttribute("data-duration");
    var box = document.getElementById("f-duration_minutes");
    if (minutes && box) {
      box.value = minutes;
    }
  });
  // A "select all" box ticks every box of its section (Today's outcomes):
  // <label hidden><input type="checkbox" data-select-all> All</label>,
  // shown only once this script runs.
  document.querySelectorAll("[data-select-all]").forEach(function (all) {
    var scope = all.closest("section") || document;
    var label = all.closest("label");
    if (label) {
      label.hidden = false;
    }
    all.addEventListener("change", function () {
      scope.querySelectorAll('input[type="checkbox"][name="id"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
  // The main menu folds behind a button on narrow screens; without script
  // it stays open.
  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("site-nav");
  if (toggle && nav) {
    document.documentElement.classList.add("nav-folds");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    });
  }
  // Tables turn into cards on narrow screens: each cell shows its column's
  // heading, taken from the table's head unless the cell names it.
  function labelCells(root) {
    root.querySelectorAll("table").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      if (!heads.length) {
        return;
      }
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        Array.prototype.forEach.call(tr.children, function (cell, i) {
          if (heads[i] && !cell.hasAttribute("data-label") && !cell.hasAttribute("colspan")) {
            cell.setAttribute("data-label", heads[i].textContent.trim());
          }
        });
      });
    });
  }
  labelCells(document);
  window.apptconfirmLabelCells = labelCells;
  // An import under way: the progress bar follows the job, and the page
  // reloads to show the outcome once it is done.
  var running = document.querySelector("[data-import-status]");
  if (running && window.fetch) {
    var bar = document.getElementById("import-progress");
    var text = document.getElementById("import-progress-text");
    var poll = function () {
      fetch(running.getAttribute("data-import-status"), { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (st) {
          if (!st) {
            return;
          }
          if (st.total > 0) {
            bar.max = st.total;
            bar.value = st.done;
            text.textContent = st.done + " of " + st.total + " rows";
          }
          if (st.state !== "previewing" && st.state !== "applying") {
            window.location.reload();
            return;
          }
          window.setTimeout(poll, 500);
        })
        .catch(function () { window.setTimeout(poll, 2000); });
    };
    window.setTimeout(poll, 300);
  }
  // Selects that submit their filter form when changed.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
})();
