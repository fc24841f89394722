/* The script of an `mvm report` page. It reads the JSON block the page carries
 * and draws it with the libraries inlined before it (Chart.js, Cytoscape.js
 * with the dagre layout). Every text from the repository goes into the page
 * through textContent or a library's text rendering, never as HTML. This
 * part draws the summary and hands its helpers to the parts that follow it
 * in the page (charts.js, lineage.js, table.js, pair.js, then live.js). */
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
  // a version the shared registry has not numbered yet shows its id, never a number
  var label = function (v) {
    return v.number ? 'v' + v.number : v.id.slice(0, 12);
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

  // the helpers the other parts of the script use (charts.js, lineage.js, table.js, pair.js, live.js)
  window.mvmPage = {
    data: data,
    byId: byId,
    branchColor: branchColor,
    colorOf: colorOf,
    label: label,
    el: el,
    fmt: fmt,
    pairs: pairs,
    report: report,
    ENV_STYLES: ENV_STYLES,
  };
})();
