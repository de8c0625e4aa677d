/* pollhub presenter page: the CSV and JSON downloads of every poll's results. */

/* The download buttons; app is the page's wiring (presenter-app.js). */
export function createExport(app) {
  var view = app.view;

  /* The server builds the export (pollhub export's format, formulas guarded);
     the token goes in a header, never in the URL. */
  function download(path, what) {
    var failed = function (detail) { app.toast("Could not download the " + what + (detail ? ": " + detail : ".")); };
    fetch(path, { headers: { Authorization: "Bearer " + app.token }, cache: "no-store", credentials: "omit" })
      .then(function (reply) {
        if (!reply.ok) {
          failed(reply.status === 401 || reply.status === 403 ? "the server refused this page's token." :
            reply.status === 429 ? "too many tries with a wrong token; try again later." : "the server answered " + reply.status + ".");
          return null;
        }
        var match = /filename="([^"]+)"/.exec(reply.headers.get("Content-Disposition") || "");
        return reply.blob().then(function (blob) { save(blob, match ? match[1] : path.replace(/^\/export/, "pollhub-results")); });
      })
      .catch(function () { failed("the server cannot be reached."); });
  }

  function save(blob, name) {
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  view.csv.addEventListener("click", function () { download("/export.csv", "CSV"); });
  view.json.addEventListener("click", function () { download("/export.json", "JSON"); });
}
