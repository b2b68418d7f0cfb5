// The only script, and every page works without it: a "Copy BibTeX" button (without it the BibTeX
// stays selectable in its text box), and the vote buttons sent without a reload (without it each is
// a plain form that reloads the page).
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

  // Votes: POST (vote) or DELETE (take it back) /api/papers/{id}/votes with the session cookie and
  // the form's CSRF token; the answer's counts update every button and count of that paper on the
  // page. Any failure falls back to the form itself (the server says what went wrong).
  function showVotes(api, counts) {
    document.querySelectorAll("form.vote[data-api]").forEach(function (form) {
      if (form.getAttribute("data-api") !== api) return;
      var button = form.querySelector("button");
      var count = form.querySelector(".vote-count");
      var choice = form.querySelector("input[name=vote]");
      if (count) count.textContent = String(counts.total);
      if (button) {
        button.setAttribute("aria-pressed", counts.you ? "true" : "false");
        button.title = counts.you ? "You upvoted this: take your vote back" : "Upvote";
      }
      if (choice) choice.value = counts.you ? "down" : "up";
    });
    document.querySelectorAll(".vote-split[data-api]").forEach(function (split) {
      if (split.getAttribute("data-api") !== api) return;
      var users = split.querySelector(".vote-users");
      if (users) users.textContent = String(counts.users);
    });
  }

  document.querySelectorAll("form.vote[data-api]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.fetch) return;
      event.preventDefault();
      var api = form.getAttribute("data-api");
      var choice = form.querySelector("input[name=vote]");
      var token = form.querySelector("input[name=csrf_token]");
      var button = form.querySelector("button");
      if (button) button.disabled = true;
      fetch(api, {
        method: choice && choice.value === "down" ? "DELETE" : "POST",
        credentials: "same-origin",
        headers: {"X-CSRF-Token": token ? token.value : "", "Accept": "application/json"}
      }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      }).then(function (counts) {
        if (button) button.disabled = false;
        showVotes(api, counts);
      }).catch(function () {
        if (button) button.disabled = false;
        form.submit();  // the plain form: the page that comes back says what went wrong
      });
    });
  });
});
