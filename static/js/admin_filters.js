/* Drop-down list filters of the admin (templates/admin/filter_dropdown.html): choosing an option opens
   the list it names. One listener for the whole page, however many drop-downs include this file. */
(function () {
  "use strict";
  if (window.aidtrackerFilterDropdowns) { return; }
  window.aidtrackerFilterDropdowns = true;
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.classList && select.classList.contains("filter-dropdown-select")) {
      window.location.href = select.value;
    }
  });
})();
