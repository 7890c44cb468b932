// The console works without this file; it only counts down the minutes left of the session
// shown in the page header (the server ends the session after the idle timeout anyway).
// It counts from the minutes the server gave with the page, so a wrong clock on this
// computer does not matter.
(function () {
  "use strict";
  var note = document.getElementById("session-timeout");
  var minutes = document.getElementById("session-minutes");
  if (!note || !minutes) {
    return;
  }
  var total = parseInt(note.getAttribute("data-minutes"), 10);
  if (isNaN(total)) {
    return;
  }
  var loaded = Date.now();
  function update() {
    var left = Math.max(0, total - Math.floor((Date.now() - loaded) / 60000));
    minutes.textContent = String(left);
    if (left === 0) {
      note.textContent = "会话可能已因长时间无操作而结束，请刷新页面，如需要请重新登录。";
      return;
    }
    window.setTimeout(update, 30000);
  }
  update();
})();
