// Progress for the spreadsheet import pages, within the plain HTTP flow (no background jobs):
// the upload shows how much of the file has been sent, then that the server is checking it; the preview's
// confirm and cancel show that work is under way. Buttons cannot be pressed twice. Without JavaScript the
// forms work as ordinary forms.
(function () {
  "use strict";

  function status(form) {
    var box = form.querySelector(".import-progress");
    if (!box) {
      box = document.createElement("p");
      box.className = "import-progress";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      form.appendChild(box);
    }
    return box;
  }

  function busy(form, submitter) {
    // A disabled button is not sent: keep the pressed one's name in the form.
    if (submitter && submitter.name) {
      var keep = document.createElement("input");
      keep.type = "hidden";
      keep.name = submitter.name;
      keep.value = submitter.value;
      form.appendChild(keep);
    }
    form.querySelectorAll("input[type=submit], button").forEach(function (button) {
      button.disabled = true;
    });
    form.setAttribute("aria-busy", "true");
  }

  var upload = document.getElementById("import-form");
  if (upload) {
    upload.addEventListener("submit", function (event) {
      if (upload.getAttribute("aria-busy") === "true") {
        event.preventDefault();
        return;
      }
      var input = upload.querySelector("input[type=file]");
      if (!window.XMLHttpRequest || !window.FormData || !input || !input.files.length) {
        busy(upload, null);
        return;
      }
      event.preventDefault();
      var data = new FormData(upload);
      busy(upload, null);
      var box = status(upload);
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.id = "import-upload-progress";
      var text = document.createElement("span");
      box.appendChild(bar);
      box.appendChild(document.createTextNode(" "));
      box.appendChild(text);
      text.textContent = upload.dataset.sending + " 0%";
      var request = new XMLHttpRequest();
      request.open("POST", upload.action || window.location.href);
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var percent = Math.round((e.loaded / e.total) * 100);
          bar.value = percent;
          text.textContent = upload.dataset.sending + " " + percent + "%";
          if (percent >= 100) {
            bar.removeAttribute("value");
            text.textContent = upload.dataset.checking;
          }
        }
      });
      request.addEventListener("load", function () {
        // The POST answers a redirect to the finished preview; the browser has followed it.
        if (request.responseURL && request.responseURL !== window.location.href) {
          window.location.assign(request.responseURL);
        } else {
          document.open();
          document.write(request.responseText);
          document.close();
        }
      });
      request.addEventListener("error", function () {
        text.textContent = upload.dataset.failed;
        upload.removeAttribute("aria-busy");
        upload.querySelectorAll("input[type=submit]").forEach(function (b) { b.disabled = false; });
      });
      request.send(data);
    });
  }

  var confirm = document.getElementById("confirm-form");
  if (confirm) {
    confirm.addEventListener("submit", function (event) {
      if (confirm.getAttribute("aria-busy") === "true") {
        event.preventDefault();
        return;
      }
      var submitter = event.submitter || document.activeElement;
      busy(confirm, submitter);
      var cancelling = submitter && submitter.name === "cancel";
      status(confirm).textContent = cancelling ? confirm.dataset.cancelling : confirm.dataset.working;
    });
  }
})();
