// apptconfirm live updates: listens to /events (server-sent events) and
// changes state badges in place, so the dashboard, the appointment list and
// an appointment's page follow webhooks without a reload. EventSource
// reconnects by itself; after a reconnect (events may have been missed) the
// dashboard reloads its counts from /dashboard/body, other pages reload.
// Loaded for logged-in users only, from a file: no inline script (CSP).
(function () {
  "use strict";
  if (!window.EventSource) {
    return;
  }

  var APPOINTMENT_STATES = ["scheduled", "confirmed", "cancelled", "completed", "no_show", "reschedule_requested"];
  var MESSAGE_STATES = ["planned", "sending", "accepted", "sent", "delivered", "failed", "rejected", "cancelled", "skipped"];

  // The indicator: the dashboard has its own; elsewhere a dot joins the header.
  var indicator = document.querySelector("[data-live-indicator]");
  var dot, label;
  if (indicator) {
    dot = indicator.querySelector(".live-dot");
    label = indicator.querySelector("[data-live-label]");
  } else {
    var header = document.querySelector("header.top");
    if (header) {
      dot = document.createElement("span");
      dot.className = "live-dot";
      dot.setAttribute("data-live-dot", "");
      var spacer = header.querySelector(".spacer");
      if (spacer) {
        spacer.parentNode.insertBefore(dot, spacer.nextSibling);
      } else {
        header.appendChild(dot);
      }
    }
  }
  function setLive(on) {
    if (dot) {
      dot.classList.toggle("on", on);
      dot.title = on ? "Live: updates appear by themselves" : "Reconnecting…";
    }
    if (label) {
      label.textContent = on ? "live" : "reconnecting…";
    }
    document.documentElement.setAttribute("data-live", on ? "on" : "off");
  }

  // announce tells screen readers, politely, what changed by itself.
  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region) {
      return;
    }
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }
  window.apptconfirmAnnounce = announce;

  // The words people read for each state come from the server (the page
  // carries the table), so a badge changed here reads as one drawn there.
  var STATUS_WORDS = {};
  try {
    STATUS_WORDS = JSON.parse((document.getElementById("status-words") || {}).textContent || "{}");
  } catch (e) { /* without the table a state reads with spaces for underscores */ }
  function statusWord(status) {
    return STATUS_WORDS[status] || status.replace(/_/g, " ");
  }

  // setBadge gives a badge a new state: its text and its state class.
  function setBadge(el, status, states) {
    var word = statusWord(status);
    if (el.textContent === word && el.classList.contains(status)) {
      return;
    }
    var what = el.getAttribute("data-announce") || (states === APPOINTMENT_STATES ? "An appointment" : "A message");
    announce(what + " is now " + word + ".");
    states.forEach(function (s) { el.classList.remove(s); });
    el.classList.add(status);
    el.textContent = word;
    el.classList.add("live-changed");
    window.setTimeout(function () { el.classList.remove("live-changed"); }, 4000);
  }

  function sameID(attr, id) {
    return '[' + attr + '="' + String(Number(id)) + '"]';
  }

  // The dashboard's counts come from the server; fetch them again, at most
  // once every two seconds however many events arrive.
  var fragment = document.querySelector("[data-live-fragment]");
  var refreshTimer = null;
  function refreshCounts(delay) {
    if (!fragment || refreshTimer) {
      return;
    }
    refreshTimer = window.setTimeout(function () {
      refreshTimer = null;
      fetch(fragment.getAttribute("data-live-fragment"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          if (!r.ok) { throw new Error("status " + r.status); }
          return r.text();
        })
        .then(function (html) {
          fragment.innerHTML = html;
          if (window.apptconfirmLabelCells) { window.apptconfirmLabelCells(fragment); }
        })
        .catch(function () { /* the next event or reconnect tries again */ });
    }, delay);
  }

  // An appointment's page also refreshes its messages table and timeline
  // when something happens to that appointment (a GET of the same page).
  // The conversation with a patient (on their page and their
  // appointments' pages) follows anything that happens to that patient.
  var REGIONS = ["appointment-messages", "appointment-timeline", "conversation"];
  var regionTimer = null;
  function refreshRegions(appointmentID, patientID) {
    var mine = (appointmentID && document.getElementById("appt-status-" + String(Number(appointmentID)))) ||
      (patientID && document.querySelector("[data-thread-patient" + '="' + String(Number(patientID)) + '"]'));
    if (regionTimer || !mine) {
      return;
    }
    if (!REGIONS.some(function (id) { return document.getElementById(id); })) {
      return;
    }
    regionTimer = window.setTimeout(function () {
      regionTimer = null;
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          if (!r.ok) { throw new Error("status " + r.status); }
          return r.text();
        })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          REGIONS.forEach(function (id) {
            var fresh = doc.getElementById(id), here = document.getElementById(id);
            if (id === "conversation" && here && here.contains(document.activeElement) && document.activeElement.tagName === "TEXTAREA") {
              // Keep what staff are typing: only the texts are refreshed.
              var list = here.querySelector("ol.thread"), freshList = fresh && fresh.querySelector("ol.thread");
              if (list && freshList) { list.innerHTML = freshList.innerHTML; }
              return;
            }
            if (fresh && here) {
              here.innerHTML = fresh.innerHTML;
              if (window.apptconfirmLabelCells) { window.apptconfirmLabelCells(here); }
            }
          });
        })
        .catch(function () { /* the next event tries again */ });
    }, 1000);
  }

  // The nav's inbox count follows replies arriving and being handled; a
  // new one waiting is announced.
  var countTimer = null;
  function refreshInboxCount() {
    var el = document.querySelector("[data-inbox-count]");
    if (!el || countTimer) {
      return;
    }
    countTimer = window.setTimeout(function () {
      countTimer = null;
      fetch("/inbox/count", { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) { throw new Error("status " + r.status); }
          return r.text();
        })
        .then(function (text) {
          var n = parseInt(text, 10);
          if (isNaN(n)) { return; }
          var before = parseInt(el.getAttribute("data-n") || el.textContent, 10) || 0;
          el.setAttribute("data-n", String(n));
          el.textContent = n > 0 ? String(n) : "";
          if (n > 0) {
            var hidden = document.createElement("span");
            hidden.className = "visually-hidden";
            hidden.textContent = " waiting";
            el.appendChild(hidden);
          }
          el.classList.toggle("zero", n === 0);
          if (n > before) {
            announce("A reply waits in the inbox: " + n + " in all.");
          }
        })
        .catch(function () { /* the next inbox event tries again */ });
    }, 300);
  }

  function apply(ev) {
    if (ev.kind === "appointment" && ev.appointment_id && ev.status && APPOINTMENT_STATES.indexOf(ev.status) >= 0) {
      document.querySelectorAll(".badge" + sameID("data-appointment-id", ev.appointment_id)).forEach(function (el) {
        setBadge(el, ev.status, APPOINTMENT_STATES);
      });
    }
    if (ev.kind === "message" && ev.message_id && ev.status && MESSAGE_STATES.indexOf(ev.status) >= 0) {
      var el = document.getElementById("msg-status-" + String(Number(ev.message_id)));
      if (el) {
        setBadge(el, ev.status, MESSAGE_STATES);
      }
    }
    if (ev.appointment_id || ev.patient_id) {
      refreshRegions(ev.appointment_id, ev.patient_id);
    }
    if (ev.kind === "inbox") {
      refreshInboxCount();
    }
    refreshCounts(2000);
  }

  // A page with a half-typed form is never reloaded under the user's hands.
  var typing = false;
  document.addEventListener("input", function () { typing = true; });

  var everOpen = false;
  var source = new EventSource("/events");
  source.addEventListener("open", function () {
    setLive(true);
    if (everOpen) {
      // Back after a break: events may have been missed.
      if (fragment) {
        refreshCounts(0);
      } else if (!typing && document.querySelector("[data-appointment-id], [data-message-id]")) {
        window.location.reload();
      }
    }
    everOpen = true;
  });
  source.addEventListener("error", function () {
    setLive(false);
  });
  source.addEventListener("change", function (msg) {
    var ev;
    try {
      ev = JSON.parse(msg.data);
    } catch (e) {
      return;
    }
    apply(ev);
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
