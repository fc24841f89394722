/* The metric charts of an `mvm report` page, run after report.js (whose helpers come in window.mvmPage). */
(function () {
  var page = window.mvmPage;
  var data = page.data;
  var report = page.report;
  // one chart per metric
  // versions not numbered yet (made here, not pushed) come after the highest number, in order
  var last = data.versions.reduce(function (n, v) {
    return Math.max(n, v.number || 0);
  }, 0);
  var pending = {};
  data.versions.forEach(function (v) {
    if (!v.number) pending[v.id] = last + Object.keys(pending).length + 1;
  });
  var xOf = function (v, axis) {
    return axis === 'time' ? Date.parse(v.time) : v.number || pending[v.id];
  };
  // a version served by several envs: their markers stacked 12 px apart around its point, so each one shows
  var OFFSET = 12;
  var envOffset = {
    id: 'mvmEnvOffset',
    afterDatasetsUpdate: function (chart) {
      chart.data.datasets.forEach(function (ds, di) {
        if (ds.kind !== 'env') return;
        chart.getDatasetMeta(di).data.forEach(function (pt, i) {
          var served = page.byId[ds.data[i].id].envs;
          var k = served.indexOf(ds.env);
          if (served.length > 1 && k >= 0) pt.y += (k - (served.length - 1) / 2) * OFFSET;
        });
      });
    },
  };
  function drawCharts(axis) {
    Object.keys(report.charts).forEach(function (m) {
      report.charts[m].destroy();
    });
    report.charts = {};
    var box = document.getElementById('charts');
    box.textContent = '';
    var numeric = data.metrics.filter(function (m) {
      return data.versions.some(function (v) {
        return typeof v.metrics[m] === 'number';
      });
    });
    if (!numeric.length)
      box.appendChild(
        page.el('p', 'No version records a numeric metric yet (mvm commit --metric NAME=VALUE).', 'note'),
      );
    numeric.forEach(function (m) {
      var card = page.el('div', null, 'chart-card');
      var dir = data.directions[m];
      card.appendChild(page.el('h3', m + (dir ? ' (' + dir + ' is better)' : '')));
      var holder = page.el('div', null, 'chart-box');
      var canvas = document.createElement('canvas');
      canvas.setAttribute('data-metric', m);
      holder.appendChild(canvas);
      card.appendChild(holder);
      box.appendChild(card);
      var withMetric = data.versions.filter(function (v) {
        return typeof v.metrics[m] === 'number';
      });
      var datasets = data.branches
        .map(function (b) {
          var pts = withMetric
            .filter(function (v) {
              return (v.branch || '(no branch)') === b;
            })
            .map(function (v) {
              return { x: xOf(v, axis), y: v.metrics[m], id: v.id };
            })
            .sort(function (p, q) {
              return p.x - q.x;
            });
          return {
            label: b,
            kind: 'branch',
            data: pts,
            showLine: true,
            borderColor: page.branchColor[b],
            backgroundColor: page.branchColor[b],
            pointRadius: 4,
            pointHoverRadius: 6,
            borderWidth: 1.5,
          };
        })
        .filter(function (d) {
          return d.data.length;
        });
      data.envs.forEach(function (env, i) {
        var served = {};
        env.moves.forEach(function (mv) {
          served[mv.id] = true;
        });
        var pts = withMetric
          .filter(function (v) {
            return served[v.id];
          })
          .map(function (v) {
            return { x: xOf(v, axis), y: v.metrics[m], id: v.id };
          });
        var mark = page.envMarker(i);
        if (pts.length)
          datasets.push({
            label: 'served by ' + env.name,
            kind: 'env',
            env: env.name,
            data: pts,
            showLine: false,
            pointStyle: mark.style,
            pointRadius: 8,
            pointHoverRadius: 10,
            borderColor: mark.color,
            backgroundColor: mark.color + '40',
            borderWidth: 2,
          });
      });
      report.charts[m] = new Chart(canvas, {
        type: 'scatter',
        data: { datasets: datasets },
        plugins: [envOffset],
        options: {
          animation: false,
          maintainAspectRatio: false,
          interaction: { mode: 'nearest', intersect: true },
          scales: {
            x: {
              type: 'linear',
              title: { display: true, text: axis === 'time' ? 'time' : 'version' },
              ticks: {
                callback: function (val) {
                  return axis === 'time'
                    ? new Date(val).toISOString().slice(0, 16).replace('T', ' ')
                    : Number.isInteger(val)
                      ? 'v' + val
                      : null;
                },
              },
            },
            y: { title: { display: true, text: m } },
          },
          plugins: {
            // each series' own marker in the legend: branch colours, and each env's shape and colour
            legend: { labels: { usePointStyle: true, boxHeight: 9 } },
            tooltip: {
              callbacks: {
                title: function (items) {
                  var v = page.byId[items[0].raw.id];
                  return (
                    page.label(v) +
                    ' ' +
                    v.id.slice(0, 12) +
                    (items[0].dataset.kind === 'env' ? ' (served by ' + items[0].dataset.env + ')' : '')
                  );
                },
                label: function (item) {
                  var v = page.byId[item.raw.id];
                  return m + ' = ' + page.fmt(item.raw.y) + '  [' + (v.branch || 'no branch') + ']';
                },
                afterLabel: function (item) {
                  var v = page.byId[item.raw.id];
                  var lines = [v.message.split('\n')[0], v.time];
                  var full = page.exact(item.raw.y);
                  if (full !== null) lines.unshift('exact value: ' + full);
                  if (Object.keys(v.params).length) lines.push('params: ' + page.pairs(v.params));
                  return lines;
                },
              },
            },
          },
        },
      });
    });
  }
  var axisSelect = document.getElementById('x-axis');
  axisSelect.addEventListener('change', function () {
    drawCharts(axisSelect.value);
  });
  drawCharts('number');
})();
