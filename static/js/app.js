// Shared behaviour for every page. No inline scripts anywhere: the CSP forbids them.
(function () {
  "use strict";
  // Buttons meant only for the no-JavaScript round trip (.dc-nojs) hide when scripts run.
  document.documentElement.classList.add("dc-js");
  // Tell the server the browser's time zone, so times show in the user's zone.
  try {
    // The zone name goes in as is: "/" is a valid cookie character and Django does not
    // percent-decode cookies, so an encoded "Europe%2FBerlin" would never be recognised.
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && /^[A-Za-z0-9_+\/-]+$/.test(tz) && document.cookie.indexOf("tz=" + tz) === -1) {
      document.cookie = "tz=" + tz + "; path=/; max-age=31536000; samesite=lax";
    }
    // A time zone menu the server rendered before it knew the browser's zone (a first
    // visit) starts at that zone when the menu offers it.
    var menu = document.querySelector("select[data-browser-zone]");
    if (menu && tz && Array.prototype.some.call(menu.options, function (o) { return o.value === tz; })) {
      menu.value = tz;
      menu.dispatchEvent(new Event("input", { bubbles: true }));
    }
  } catch (e) { /* older browsers: UTC */ }
  // Confirmation prompts for destructive buttons: <button data-confirm="...">.
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) { ev.preventDefault(); }
  });
})();
