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
  // Selects that submit their filter form when changed.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
})();
