// The only script: a "Copy BibTeX" button. Without it the BibTeX stays selectable in its text box.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy BibTeX"; }, 2000);
      }, function () {
        source.select();
      });
    });
  });
});
