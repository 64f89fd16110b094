// Kiosk behaviour for the waiting-room tablet. The form works without this
// script; with it the tablet also resets after idle time, forgets the last
// patient when the back button is used, and keeps answers queued on the
// device while the network is down, sending them (with their original ids,
// so nothing doubles) when it returns.
(function () {
  "use strict";
  var form = document.querySelector("form[data-kiosk]");
  var banner = document.getElementById("offline");
  var KEY = "carevoice.kiosk.queue";
  var idleMs = (form && parseInt(form.getAttribute("data-idle"), 10) || 90) * 1000;
  var timer = null;

  function freshURL() {
    var u = new URL(window.location.href);
    u.searchParams.delete("thanks");
    u.searchParams.delete("reset");
    return u;
  }
  function reset(reason) {
    var u = freshURL();
    if (reason) { u.searchParams.set("reset", "1"); }
    window.location.replace(u.toString());
  }
  function poke() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { reset(true); }, idleMs);
  }
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(q) {
    if (q.length) { localStorage.setItem(KEY, JSON.stringify(q)); } else { localStorage.removeItem(KEY); }
    if (banner) { banner.className = q.length ? "offline on" : "offline"; }
  }
  function send(item) {
    return fetch(item.action, {
      method: "POST", body: item.body, credentials: "same-origin", redirect: "follow",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    });
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  var flushing = false;
  function flush() {
    var q = load();
    if (flushing || !q.length) { save(q); return; }
    flushing = true;
    var item = q[0];
    send(item).then(function (r) {
      flushing = false;
      // Stored, already stored, or refused for good: either way it leaves the queue.
      if (r.status < 500 && r.status !== 429) {
        save(load().filter(function (x) { return x.id !== item.id; }));
        flush();
      }
    }, function () { flushing = false; });
  }

  // A page restored from the back/forward cache may show the last patient's
  // answers: load it fresh instead.
  window.addEventListener("pageshow", function (e) { if (e.persisted) { reset(false); } });
  window.addEventListener("online", flush);
  setInterval(flush, 5000);
  save(load());
  flush();

  if (!form) { return; }
  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (t) {
    document.addEventListener(t, poke, { passive: true });
  });
  poke();

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = new URLSearchParams(new FormData(form)).toString();
    var item = { id: form.elements.id.value, action: form.getAttribute("action"), body: body };
    send(item).then(function (r) {
      if (r.status >= 500 || r.status === 429) { throw new Error("retry"); }
      return r.text().then(function (html) {
        if (r.status === 200) {
          var u = freshURL();
          u.searchParams.set("thanks", "1");
          window.location.replace(u.toString());
        } else {
          document.open(); document.write(html); document.close();
        }
      });
    }).catch(function () {
      var q = load();
      if (!q.some(function (x) { return x.id === item.id; })) { q.push(item); }
      save(q);
      // Ready for the next patient, with a new id of its own.
      form.reset();
      form.elements.id.value = uuid();
      window.scrollTo(0, 0);
      poke();
    });
  });
})();
