/* The script of an `mvm report` page. It reads the JSON block the page carries
 * and draws it with the libraries inlined before it (Chart.js, Cytoscape.js
 * whose layout lineage.js computes). Every text from the repository goes into the page
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
  // each environment's marker: a shape and a colour of its own (42 distinct pairs before one repeats)
  var ENV_STYLES = ['triangle', 'rectRot', 'rect', 'star', 'crossRot', 'cross'];
  var ENV_COLORS = ['#111111', '#e6550d', '#7b4173', '#1b9e77', '#3182bd', '#b8860b', '#e7298a'];
  var envMarker = function (i) {
    return { style: ENV_STYLES[i % ENV_STYLES.length], color: ENV_COLORS[i % ENV_COLORS.length] };
  };
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
  // numbers for people: the rule of src/core/display.ts displayNumber (integers whole, others to six significant
  // digits, 100,000 and more to the unit); the data block keeps every value exact
  var fmt = function (x) {
    if (typeof x !== 'number') return x === null || x === undefined ? '' : String(x);
    if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
    if (Math.abs(x) >= 1e5) return String(Math.round(x));
    return String(Number(x.toPrecision(6)));
  };
  // the exact value when the displayed one is rounded, else null
  var exact = function (x) {
    return typeof x === 'number' && fmt(x) !== String(x) ? String(x) : null;
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
    exact: exact,
    pairs: pairs,
    report: report,
    envMarker: envMarker,
  };
})();
