// umsgate console: the few things that need a script. Every page works without it.
"use strict";
document.addEventListener("submit", function (ev) {
  var msg = ev.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { ev.preventDefault(); }
});
(function () {
  var box = document.getElementById("follow");
  var log = document.getElementById("log");
  if (!box || !log) { return; }
  var timer = null;
  function poll() {
    fetch(box.getAttribute("data-tail"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (text) {
        var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        log.textContent = text;
        if (atEnd) { log.scrollTop = log.scrollHeight; }
      })
      .catch(function () { box.checked = false; stop(); });
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; } }
  box.addEventListener("change", function () {
    stop();
    if (box.checked) { poll(); timer = setInterval(poll, 2000); }
  });
})();
