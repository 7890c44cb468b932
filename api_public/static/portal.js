/* The portal's only script: enhancements for pages that work completely without it.
   - the receipt page gets a "print" button (printing works with Ctrl+P anyway);
   - the booking form hides the certificate upload while "issued on this platform" is ticked,
     and the route question unless the inspection kind that has routes is chosen;
   - after a refused form, focus moves to the error summary so that it is read first. */
(function () {
  "use strict";

  function onReady(run) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", run);
    } else {
      run();
    }
  }

  function printButton() {
    var button = document.getElementById("print-receipt");
    if (!button) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  }

  function uploadOnlyWhenNeeded() {
    var box = document.getElementById("basis_on_platform");
    var field = document.getElementById("basis-document-field");
    if (!box || !field) {
      return;
    }
    var update = function () {
      field.hidden = box.checked;
    };
    box.addEventListener("change", update);
    update();
  }

  function routeOnlyForItsKind() {
    var blocks = document.querySelectorAll("[data-for-kind]");
    if (!blocks.length) {
      return;
    }
    var kinds = document.querySelectorAll("input[name='kind']");
    var update = function () {
      var chosen = document.querySelector("input[name='kind']:checked");
      blocks.forEach(function (block) {
        block.hidden = !chosen || chosen.value !== block.getAttribute("data-for-kind");
      });
    };
    kinds.forEach(function (input) {
      input.addEventListener("change", update);
    });
    update();
  }

  function focusErrors() {
    var summary = document.querySelector(".error-summary");
    if (summary) {
      summary.focus();
    }
  }

  onReady(function () {
    printButton();
    uploadOnlyWhenNeeded();
    routeOnlyForItsKind();
    focusErrors();
  });
})();
