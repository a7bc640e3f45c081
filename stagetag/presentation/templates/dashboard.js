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
