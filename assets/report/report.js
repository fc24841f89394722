/* The script of an `mvm report` page. It reads the JSON block the page carries
 * and draws it with the libraries inlined before it (Chart.js, Cytoscape.js
 * with the dagre layout). Every text from the repository goes into the page
 * through textContent or a library's text rendering, never as HTML. */
(function () {
  var data = JSON.parse(document.getElementById('mvm-data').textContent);
  var PALETTE = [
    '#1f77b4',
    '#d62728',
    '#2ca02c',
    '#9467bd',
    '#ff7f0e',
    '#17becf',
    '#8c564b',
    '#e377c2',
    '#7f7f7f',
    '#bcbd22',
  ];
  var ENV_STYLES = ['triangle', 'rectRot', 'star', 'crossRot', 'rect'];
  var byId = {};
  data.versions.forEach(function (v) {
    byId[v.id] = v;
  });
  var branchColor = {};
  data.branches.forEach(function (b, i) {
    branchColor[b] = PALETTE[i % PALETTE.length];
  });
  var colorOf = function (v) {
    return branchColor[v.branch || '(no branch)'];
  };
  var label = function (v) {
    return 'v' + v.number;
  };
  var el = function (tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  var fmt = function (x) {
    if (typeof x !== 'number') return x === null || x === undefined ? '' : String(x);
    if (Number.isInteger(x)) return String(x);
    var a = Math.abs(x);
    return a !== 0 && (a < 1e-3 || a >= 1e6) ? x.toExponential(3) : String(Number(x.toPrecision(6)));
  };
  var pairs = function (rec) {
    return Object.keys(rec)
      .sort()
      .map(function (k) {
        return k + '=' + fmt(rec[k]);
      })
      .join(', ');
  };
  var report = (window.mvmReport = { charts: {}, lineage: null, pairChart: null, ready: false });

  // summary and warnings
  var envNames = data.envs.map(function (e) {
    return e.name;
  });
  document.getElementById('summary').textContent =
    data.versions.length +
    ' versions on ' +
    data.branches.length +
    ' branch' +
    (data.branches.length === 1 ? '' : 'es') +
    (envNames.length ? '; environments: ' + envNames.join(', ') : '') +
    '. Generated ' +
    data.generated +
    '.';
  var warnings = document.getElementById('warnings');
  data.warnings.forEach(function (w) {
    warnings.appendChild(el('li', w, 'warning'));
  });

  // one chart per metric
  var xOf = function (v, axis) {
    return axis === 'time' ? Date.parse(v.time) : v.number;
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
      box.appendChild(el('p', 'No version records a numeric metric yet (mvm commit --metric NAME=VALUE).', 'note'));
    numeric.forEach(function (m) {
      var card = el('div', null, 'chart-card');
      var dir = data.directions[m];
      card.appendChild(el('h3', m + (dir ? ' (' + dir + ' is better)' : '')));
      var holder = el('div', null, 'chart-box');
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
            borderColor: branchColor[b],
            backgroundColor: branchColor[b],
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
        if (pts.length)
          datasets.push({
            label: 'served by ' + env.name,
            kind: 'env',
            env: env.name,
            data: pts,
            showLine: false,
            pointStyle: ENV_STYLES[i % ENV_STYLES.length],
            pointRadius: 9,
            pointHoverRadius: 11,
            borderColor: '#111',
            backgroundColor: 'rgba(0,0,0,0)',
            borderWidth: 1.5,
          });
      });
      report.charts[m] = new Chart(canvas, {
        type: 'scatter',
        data: { datasets: datasets },
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
            tooltip: {
              callbacks: {
                title: function (items) {
                  var v = byId[items[0].raw.id];
                  return (
                    label(v) +
                    ' ' +
                    v.id.slice(0, 12) +
                    (items[0].dataset.kind === 'env' ? ' (served by ' + items[0].dataset.env + ')' : '')
                  );
                },
                label: function (item) {
                  var v = byId[item.raw.id];
                  return m + ' = ' + fmt(item.raw.y) + '  [' + (v.branch || 'no branch') + ']';
                },
                afterLabel: function (item) {
                  var v = byId[item.raw.id];
                  var lines = [v.message.split('\n')[0], v.time];
                  if (Object.keys(v.params).length) lines.push('params: ' + pairs(v.params));
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

  // the lineage graph
  var nodeStyle = { version: 'round-rectangle', base: 'round-rectangle', dataset: 'barrel', git: 'tag' };
  var elements = data.lineage.nodes
    .map(function (n) {
      var v = byId[n.id];
      var text = n.label + (n.kind === 'version' && n.detail ? '\n' + n.detail.slice(0, 28) : '');
      var lines = text.split('\n');
      var longest = Math.max.apply(
        null,
        lines.map(function (l) {
          return l.length;
        }),
      );
      return {
        group: 'nodes',
        classes: n.kind,
        data: {
          id: n.id,
          label: text,
          kind: n.kind,
          color: v ? colorOf(v) : '#999',
          shape: nodeStyle[n.kind],
          w: Math.max(48, longest * 6 + 16),
          h: lines.length * 13 + 12,
        },
      };
    })
    .concat(
      data.lineage.edges.map(function (e, i) {
        return {
          group: 'edges',
          classes: e.relation,
          data: { id: 'e' + i, source: e.from, target: e.to, relation: e.relation },
        };
      }),
    );
  report.lineage = cytoscape({
    container: document.getElementById('lineage'),
    elements: elements,
    style: [
      {
        selector: 'node',
        style: {
          label: 'data(label)',
          'text-wrap': 'wrap',
          'text-valign': 'center',
          'font-size': 10,
          shape: 'data(shape)',
          width: 'data(w)',
          height: 'data(h)',
          'background-color': '#fff',
          'border-width': 2,
          'border-color': 'data(color)',
        },
      },
      { selector: 'node.version', style: { 'background-color': 'data(color)', color: '#fff', 'border-color': '#333' } },
      { selector: 'node.base', style: { 'border-style': 'dashed' } },
      { selector: 'node.dataset', style: { 'border-color': '#8c564b' } },
      { selector: 'node.git', style: { 'border-color': '#555', 'font-size': 9 } },
      {
        selector: 'edge',
        style: {
          width: 1.5,
          'curve-style': 'bezier',
          'target-arrow-shape': 'triangle',
          'line-color': '#888',
          'target-arrow-color': '#888',
          label: 'data(relation)',
          'font-size': 8,
          color: '#666',
        },
      },
      {
        selector: 'edge.base',
        style: { 'line-style': 'dashed', 'line-color': '#d62728', 'target-arrow-color': '#d62728' },
      },
      { selector: 'edge.ancestor', style: { 'line-style': 'dotted' } },
      { selector: 'edge.data, edge.git', style: { 'line-color': '#bbb', 'target-arrow-color': '#bbb' } },
    ],
    layout: { name: 'dagre', rankDir: 'BT', nodeSep: 20, rankSep: 40, animate: false },
  });

  // the comparison table: one row per version, sortable by any column
  var columns = data.comparison.columns;
  var paramNames = [];
  columns.forEach(function (c) {
    Object.keys(c.params).forEach(function (k) {
      if (paramNames.indexOf(k) < 0) paramNames.push(k);
    });
  });
  paramNames.sort();
  var heads = [
    {
      title: 'version',
      key: function (c) {
        return c.number;
      },
      cell: function (c) {
        return 'v' + c.number;
      },
    },
    {
      title: 'branch',
      key: function (c) {
        return (byId[c.id] && byId[c.id].branch) || '';
      },
    },
    {
      title: 'message',
      key: function (c) {
        return c.message.split('\n')[0];
      },
    },
    {
      title: 'time',
      key: function (c) {
        return c.time;
      },
    },
  ]
    .concat(
      data.comparison.metricNames.map(function (m) {
        return {
          title: m,
          metric: m,
          key: function (c) {
            var x = c.metrics[m]?.value;
            return typeof x === 'number' ? x : x === null || x === undefined ? null : String(x);
          },
        };
      }),
    )
    .concat(
      paramNames.map(function (p) {
        return {
          title: 'params.' + p,
          key: function (c) {
            var x = c.params[p];
            return x === undefined ? null : x;
          },
        };
      }),
    )
    .concat([
      {
        title: 'stored',
        key: function (c) {
          return c.storedBytes;
        },
        cell: function (c) {
          return (c.storedBytes / 1048576).toFixed(2) + ' MiB';
        },
      },
    ]);
  var table = document.getElementById('comparison');
  var thead = el('thead');
  var headRow = el('tr');
  var tbody = el('tbody');
  var sortState = { index: 0, dir: 1 };
  function renderRows() {
    var h = heads[sortState.index];
    var rows = columns.slice().sort(function (a, b) {
      var x = h.key(a),
        y = h.key(b);
      if (x === y) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * sortState.dir;
    });
    tbody.textContent = '';
    rows.forEach(function (c) {
      var tr = el('tr');
      tr.setAttribute('data-id', c.id);
      heads.forEach(function (hd) {
        var td;
        if (hd.metric) {
          var cell = c.metrics[hd.metric];
          td = el('td', cell ? fmt(cell.value) : '');
          if (cell && cell.delta !== null && cell.delta !== 0)
            td.appendChild(
              el('span', ' (' + (cell.delta > 0 ? '+' : '') + fmt(cell.delta) + ')', 'delta ' + (cell.verdict || '')),
            );
        } else td = el('td', hd.cell ? hd.cell(c) : fmt(hd.key(c)));
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    Array.prototype.forEach.call(headRow.children, function (th, i) {
      th.setAttribute('aria-sort', i === sortState.index ? (sortState.dir > 0 ? 'ascending' : 'descending') : 'none');
    });
  }
  heads.forEach(function (h, i) {
    var th = el('th', h.title);
    th.addEventListener('click', function () {
      sortState = { index: i, dir: sortState.index === i ? -sortState.dir : 1 };
      renderRows();
    });
    headRow.appendChild(th);
  });
  thead.appendChild(headRow);
  table.appendChild(thead);
  table.appendChild(tbody);
  renderRows();

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
