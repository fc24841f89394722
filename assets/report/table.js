/* The comparison table of an `mvm report` page, run after report.js (whose helpers come in window.mvmPage). */
(function () {
  var page = window.mvmPage;
  var data = page.data;
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
        return c.number || Infinity;
      },
      cell: function (c) {
        return c.number ? 'v' + c.number : c.id.slice(0, 12);
      },
    },
    {
      title: 'branch',
      key: function (c) {
        return (page.byId[c.id] && page.byId[c.id].branch) || '';
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
  var thead = page.el('thead');
  var headRow = page.el('tr');
  var tbody = page.el('tbody');
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
      var tr = page.el('tr');
      tr.setAttribute('data-id', c.id);
      heads.forEach(function (hd) {
        var td;
        if (hd.metric) {
          var cell = c.metrics[hd.metric];
          td = page.el('td', cell ? page.fmt(cell.value) : '');
          if (cell && page.exact(cell.value) !== null) td.title = 'exact value: ' + page.exact(cell.value);
          if (cell && cell.delta !== null && cell.delta !== 0)
            td.appendChild(
              page.el(
                'span',
                ' (' + (cell.delta > 0 ? '+' : '') + page.fmt(cell.delta) + ')',
                'delta ' + (cell.verdict || ''),
              ),
            );
        } else {
          td = page.el('td', hd.cell ? hd.cell(c) : page.fmt(hd.key(c)));
          if (!hd.cell && page.exact(hd.key(c)) !== null) td.title = 'exact value: ' + page.exact(hd.key(c));
        }
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    Array.prototype.forEach.call(headRow.children, function (th, i) {
      th.setAttribute('aria-sort', i === sortState.index ? (sortState.dir > 0 ? 'ascending' : 'descending') : 'none');
    });
  }
  heads.forEach(function (h, i) {
    var th = page.el('th', h.title);
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
})();
