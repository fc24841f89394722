/* The tensor changes of one pair on an `mvm report` page, run after report.js (helpers in window.mvmPage). */
(function () {
  var page = window.mvmPage;
  var data = page.data;
  var report = page.report;
  // the tensor diff of one pair, per layer
  var pairNote = document.getElementById('pair-note');
  if (!data.pair) {
    pairNote.textContent = 'No pair of versions to compare (a report of one version, or --no-pair).';
    document.getElementById('pair-chart-box').style.display = 'none';
  } else {
    var p = data.pair;
    var name = function (s) {
      return s.number ? 'v' + s.number : s.id.slice(0, 12);
    };
    document.getElementById('pair-title').textContent = 'Tensor changes from ' + name(p.from) + ' to ' + name(p.to);
    var compared = p.layers.filter(function (l) {
      return l.relL2 !== null;
    });
    var skipped = p.layers.reduce(function (s, l) {
      return s + l.notCompared;
    }, 0);
    pairNote.textContent = compared.length
      ? 'Relative change ||b - a|| / ||a|| of each layer\u2019s changed tensors' +
        (skipped
          ? '; ' + skipped + ' changed tensors had no value comparison (added, removed, reshaped or retyped).'
          : '.')
      : 'No tensor values changed between these versions' +
        (skipped ? ' (' + skipped + ' tensors were added, removed, reshaped or retyped).' : '.');
    if (!compared.length) document.getElementById('pair-chart-box').style.display = 'none';
    else {
      var multi = compared.some(function (l) {
        return l.file !== compared[0].file;
      });
      report.pairChart = new Chart(document.getElementById('pair-chart'), {
        type: 'bar',
        data: {
          labels: compared.map(function (l) {
            return (multi ? l.file + ': ' : '') + l.layer;
          }),
          datasets: [
            {
              label: 'relative change',
              data: compared.map(function (l) {
                return l.relL2;
              }),
              backgroundColor: '#1f77b4',
              maxBarThickness: 48,
            },
          ],
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          scales: { y: { title: { display: true, text: '||b - a|| / ||a||' } } },
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                label: function (item) {
                  return 'relative change: ' + page.fmt(item.raw);
                },
                afterLabel: function (item) {
                  var l = compared[item.dataIndex];
                  return l.changedTensors + ' of ' + l.totalTensors + ' tensors changed';
                },
              },
            },
          },
        },
      });
    }
  }
})();
