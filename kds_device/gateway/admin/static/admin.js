// The admin page's only script: parts marked data-live="URL" are fetched again every
// data-every seconds and swapped in place, so new orders and screen states show up without
// a reload; forms with data-confirm ask first. A lost login reloads to the login form.
(function () {
  "use strict";

  function refresh(part) {
    if (part.querySelector("button:hover, a:hover, button:focus, a:focus")) {
      return; // never swap a button or link away under the operator's pointer
    }
    fetch(part.dataset.live, {
      headers: { "X-Admin-Live": "1" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (answer) {
        if (answer.status === 401) {
          window.location.reload();
          return null;
        }
        return answer.ok ? answer.text() : null;
      })
      .then(function (html) {
        if (typeof html === "string") {
          part.innerHTML = html;
          part.dataset.refreshed = String(Date.now());
        }
      })
      .catch(function () {
        // the gateway is restarting or the network blinked: the next round tries again
      });
  }

  document.querySelectorAll("[data-live]").forEach(function (part) {
    var every = 1000 * (parseFloat(part.dataset.every) || 2);
    window.setInterval(function () { refresh(part); }, every);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
