// Kiosk behaviour for the waiting-room tablet. The form works without this
// script; with it the tablet never needs the network to serve the next
// patient: answers are sent in the background, kept in a queue on the
// device while the network (or the server) is down, and sent again with
// their original ids when it returns, so nothing is lost and nothing
// doubles. The page also clears itself after idle time and never shows
// one patient's answers to the next: not after sending, not through the
// back button, not through the browser's form memory.
(function () {
  "use strict";
  var KEY = "carevoice.kiosk.queue";
  var TIMEOUT = 10000; // a request that takes longer is queued and retried
  var survey = document.getElementById("survey");
  var thanks = document.getElementById("kiosk-thanks");
  var banner = document.getElementById("offline");
  var count = document.getElementById("offline-count");
  var form = document.querySelector("form[data-kiosk]");
  if (!form) {
    // A thank-you page reached without this script's help (a form sent
    // before the script loaded): go back to a fresh form, once the server
    // answers, so that an outage never leaves an error page on the tablet.
    var again = document.querySelector("a[data-reset]");
    if (again) {
      var back = function () {
        fetch(again.href, { cache: "no-store", credentials: "same-origin" }).then(function (r) {
          if (r.ok) { window.location.replace(again.href); } else { setTimeout(back, 5000); }
        }, function () { setTimeout(back, 5000); });
      };
      setTimeout(back, (parseInt(again.getAttribute("data-reset"), 10) || 10) * 1000);
    }
    return;
  }
  var action = form.getAttribute("action");
  var idleMs = (parseInt(form.getAttribute("data-idle"), 10) || 90) * 1000;
  var thanksMs = 10000;
  var idleTimer = null, thanksTimer = null, sending = false, flushing = false;

  function $(id) { return document.getElementById(id); }

  // uuid makes a response id (the idempotency key) as a UUIDv7: the time in
  // milliseconds first, so that the server's index of ids grows at its end
  // rather than at a random page (see BENCHMARKS.md, issue 6).
  function uuid() {
    var b = new Uint8Array(16), ms = Date.now(), i;
    crypto.getRandomValues(b);
    for (i = 5; i >= 0; i--) { b[i] = ms % 256; ms = Math.floor(ms / 256); }
    b[6] = (b[6] & 15) | 112; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // post sends one urlencoded form, giving up after TIMEOUT.
  function post(url, body) {
    var ctl = window.AbortController ? new AbortController() : null;
    var t = setTimeout(function () { if (ctl) { ctl.abort(); } }, TIMEOUT);
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      signal: ctl ? ctl.signal : undefined
    }).then(function (r) { clearTimeout(t); return r; }, function (e) { clearTimeout(t); throw e; });
  }
  // retryable: the server did not take the answers and may later.
  function retryable(status) { return status >= 500 || status === 429 || status === 408; }

  // The queue lives in localStorage so that it survives a reload or a
  // power cut; it holds only answers not yet acknowledged by the server.
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(q) {
    try {
      if (q.length) { localStorage.setItem(KEY, JSON.stringify(q)); } else { localStorage.removeItem(KEY); }
    } catch (e) { /* storage full or disabled: the item stays in memory below */ }
    show(q.length);
  }
  function enqueue(item) {
    var q = load();
    if (!q.some(function (x) { return x.id === item.id; })) { q.push(item); }
    save(q);
  }
  // show tells staff, calmly, that answers are waiting on this tablet.
  function show(n) {
    if (!banner) { return; }
    banner.hidden = n === 0;
    if (count) { count.textContent = n > 0 ? "(" + n + ")" : ""; }
  }
  function flush() {
    var q = load();
    show(q.length);
    if (flushing || !q.length) { return; }
    flushing = true;
    var item = q[0];
    post(item.action, item.body).then(function (r) {
      flushing = false;
      if (retryable(r.status)) { return; }
      // Stored now, stored before (same id, same answers: 200), or refused
      // for good (4xx): either way it leaves the queue.
      save(load().filter(function (x) { return x.id !== item.id; }));
      flush();
    }, function () { flushing = false; });
  }

  // clear empties every field and gives the form a new id: the next
  // patient's answers are a new response.
  function clear() {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.type === "radio" || el.type === "checkbox") { el.checked = false; el.removeAttribute("checked"); }
      else if (el.tagName === "TEXTAREA") { el.value = ""; el.textContent = ""; }
      else if (el.type === "text" || el.type === "tel" || el.type === "email") { el.value = ""; el.setAttribute("value", ""); }
      el.removeAttribute("aria-invalid");
    });
    form.querySelector("input[name=id]").value = uuid();
    Array.prototype.forEach.call(document.querySelectorAll("#errors, .field-error, #survey > .notice:not(#kiosk-reset)"), function (el) {
      el.parentNode.removeChild(el);
    });
    try { sessionStorage.clear(); } catch (e) { /* nothing kept there */ }
  }
  function dirty() {
    if (document.getElementById("errors")) { return true; }
    return Array.prototype.some.call(form.elements, function (el) {
      if (el.type === "radio" || el.type === "checkbox") { return el.checked; }
      return (el.tagName === "TEXTAREA" || el.type === "text" || el.type === "tel" || el.type === "email") && el.value !== "";
    });
  }
  function showForm(notice) {
    if (thanksTimer) { clearTimeout(thanksTimer); thanksTimer = null; }
    if (thanks) { thanks.hidden = true; }
    survey.hidden = false;
    var n = $("kiosk-reset");
    if (n) { n.hidden = !notice; }
    window.scrollTo(0, 0);
    poke();
  }
  function showThanks(wantsContact) {
    survey.hidden = true;
    $("kiosk-thanks-contact").hidden = !wantsContact;
    thanks.hidden = false;
    window.scrollTo(0, 0);
    thanks.focus();
    thanksTimer = setTimeout(function () { clear(); showForm(false); }, thanksMs);
  }

  // Idle: clear a form someone walked away from. Nothing is sent.
  function poke() {
    if (idleTimer) { clearTimeout(idleTimer); }
    idleTimer = setTimeout(function () {
      if (thanks && !thanks.hidden) { clear(); showForm(false); } else if (dirty()) { clear(); showForm(true); } else { poke(); }
    }, idleMs);
  }
  ["pointerdown", "keydown", "input", "touchstart", "scroll"].forEach(function (t) {
    document.addEventListener(t, poke, { passive: true, capture: true });
  });

  document.addEventListener("submit", function (e) {
    if (e.target !== form) { return; }
    e.preventDefault();
    if (sending) { return; }
    var id = form.querySelector("input[name=id]").value;
    var body = new URLSearchParams(new FormData(form)).toString();
    var ok = form.elements.contact_ok;
    var wantsContact = !!(ok && ok.checked);
    var item = { id: id, action: action, body: body };
    var button = form.querySelector("button[type=submit]");
    sending = true;
    button.disabled = true;
    function done() { sending = false; button.disabled = false; }
    post(action, body).then(function (r) {
      if (retryable(r.status)) { throw new Error("retry"); }
      return r.text().then(function (html) {
        done();
        if (r.ok || r.status === 409) {
          clear();
          showThanks(wantsContact);
          flush();
          return;
        }
        // The server refused the answers (a missing answer, a mistyped
        // phone number): show its page, with the messages, in place.
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.getElementById("survey");
        if (!next) { throw new Error("retry"); }
        survey.innerHTML = next.innerHTML;
        form = document.querySelector("form[data-kiosk]");
        var errs = $("errors");
        if (errs) { errs.focus(); }
      });
    }).catch(function () {
      done();
      // No answer from the server: keep the answers on the tablet, unless
      // the form is incomplete (nobody would see the server's message).
      if (!form.checkValidity()) { form.reportValidity(); return; }
      enqueue(item);
      clear();
      showThanks(wantsContact);
    });
  });

  if (thanks) {
    $("kiosk-again").addEventListener("click", function () { clear(); showForm(false); });
  }

  // The language switch reloads the page; offline that would leave an
  // error page on the tablet, so stay put instead. Kiosk navigation
  // replaces the history entry: the back button has nowhere to go.
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[href]");
    if (!a || a.origin !== window.location.origin || a.getAttribute("href").charAt(0) === "#") { return; }
    e.preventDefault();
    fetch(a.href, { cache: "no-store", credentials: "same-origin" }).then(function (r) {
      if (r.ok) { window.location.replace(a.href); }
    }, function () { if (banner) { banner.hidden = false; } });
  });

  // Leaving the page (reload, back, language) forgets the answers first,
  // so a page restored from the back/forward cache shows an empty form;
  // one restored anyway is cleared again.
  window.addEventListener("pagehide", function () { clear(); });
  window.addEventListener("pageshow", function (e) { if (e.persisted) { clear(); showForm(false); } });
  window.addEventListener("online", flush);
  setInterval(flush, 5000);
  flush();
  poke();
})();
