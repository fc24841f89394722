/* The last part of an `mvm report` page's script: `report --serve` polling, then the ready flag. */
(function () {
  var page = window.mvmPage;
  var report = page.report;
  // report --serve: reload when the repository changes
  if (typeof window.MVM_LIVE === 'string') {
    var stamp = window.MVM_LIVE;
    var poll = function () {
      fetch('/__mvm/stamp', { cache: 'no-store' })
        .then(function (r) {
          return r.ok ? r.text() : null;
        })
        .then(function (s) {
          if (s !== null && s !== stamp) location.reload();
        })
        .catch(function () {})
        .then(function () {
          setTimeout(poll, 1000);
        });
    };
    poll();
  }
  report.ready = true;
})();
