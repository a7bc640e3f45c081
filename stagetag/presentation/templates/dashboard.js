// Filter the model tables as you type: a row stays when its search text (name, versions,
// "stage version" pairs, type, description) contains every word typed.
(function () {
  var input = document.getElementById("filter");
  if (!input) { return; }
  input.addEventListener("input", function () {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var rows = document.querySelectorAll("table.models tbody tr");
    for (var i = 0; i < rows.length; i++) {
      var text = rows[i].getAttribute("data-search") || "";
      rows[i].hidden = !words.every(function (w) { return text.indexOf(w) !== -1; });
    }
    var deprecated = document.getElementById("deprecated");
    if (deprecated && words.length) {
      var shown = deprecated.querySelectorAll("tbody tr:not([hidden])").length;
      if (shown) { deprecated.open = true; }
    }
  });
})();

// Copy buttons for the commands of the action menus: shown only where the page may write to
// the clipboard. Without this script the command is still there, as text to select.
(function () {
  var buttons = document.querySelectorAll("button.copy[data-copy]");
  if (!buttons.length || !navigator.clipboard || !navigator.clipboard.writeText) { return; }
  var status = document.getElementById("copy-status");
  function say(text) { if (status) { status.textContent = text; } }
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var command = document.getElementById(button.getAttribute("data-copy"));
      if (!command) { return; }
      navigator.clipboard.writeText(command.textContent).then(function () {
        button.textContent = "Copied";
        say("Copied: " + command.textContent);
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      }, function () {
        say("Could not copy: select the command and copy it by hand.");
      });
    });
  });
})();
