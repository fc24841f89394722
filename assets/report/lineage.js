/* The lineage graph of an `mvm report` page, run after report.js (whose helpers come in window.mvmPage).
 * Its layout is computed here, from the DAG: one lane (column) per branch, versions in rows by their ancestry
 * (every parent, ancestor or base below the versions made from it, the newest at the top), git commits and base
 * models outside the report in columns on the left, each dataset's snapshots in a box of its own on the right. The
 * graph opens at a zoom where labels are at least 10 px high, panned to the newest versions, and scrolls or drags
 * to the rest. */
(function () {
  var page = window.mvmPage;
  var data = page.data;
  var report = page.report;
  var FONT = 11; // label font size, in graph units
  var MIN_LABEL_PX = 10; // the smallest label height on screen the page opens at
  var ROW = 62; // height of a row of versions
  var GAP = 56; // space between columns
  var nodeStyle = { version: 'round-rectangle', base: 'round-rectangle', dataset: 'barrel', git: 'tag' };

  var nodes = data.lineage.nodes;
  var text = function (n) {
    if (n.kind === 'version') return n.label + (n.detail ? '\n' + n.detail.slice(0, 28) : '');
    if (n.kind === 'dataset') return n.detail;
    if (n.kind === 'base') return n.label + (n.detail ? '\n' + n.detail.slice(0, 28) : '');
    return n.label;
  };
  var size = function (label) {
    var lines = label.split('\n');
    var longest = Math.max.apply(
      null,
      lines.map(function (l) {
        return l.length;
      }),
    );
    return { w: Math.max(48, Math.ceil(longest * FONT * 0.62) + 18), h: lines.length * (FONT + 3) + 14 };
  };

  // rows: versions in topological order (parents first, else the data's order), each one row above every version
  // it came from (parent, ancestor, base) and above the last one in its lane
  var versionIds = nodes
    .filter(function (n) {
      return n.kind === 'version';
    })
    .map(function (n) {
      return n.id;
    });
  var isVersion = {};
  versionIds.forEach(function (id, i) {
    isVersion[id] = i + 1;
  });
  var from = {}; // version -> the versions it came from
  var users = {}; // dataset, git or base node -> the versions that use it
  data.lineage.edges.forEach(function (e) {
    if (isVersion[e.to]) (from[e.from] = from[e.from] || []).push(e.to);
    else (users[e.to] = users[e.to] || []).push(e.from);
  });
  var order = [];
  var state = {};
  var visit = function (id) {
    // iterative depth-first post-order: a version after everything it came from
    var stack = [[id, 0]];
    while (stack.length) {
      var top = stack[stack.length - 1];
      var deps = from[top[0]] || [];
      if (top[1] === 0) {
        if (state[top[0]]) {
          stack.pop();
          continue;
        }
        state[top[0]] = 1;
      }
      if (top[1] < deps.length) {
        var d = deps[top[1]++];
        if (!state[d]) stack.push([d, 0]);
      } else {
        stack.pop();
        state[top[0]] = 2;
        order.push(top[0]);
      }
    }
  };
  versionIds.forEach(visit);
  var laneOf = {};
  var laneFor = function (v) {
    return lanes[laneOf[v?.branch || '(no branch)']];
  };
  var lanes = [];
  data.versions.forEach(function (v) {
    var b = v.branch || '(no branch)';
    if (!(b in laneOf)) {
      laneOf[b] = lanes.length;
      lanes.push({ name: b, width: 0, last: -1, x: 0 });
    }
  });
  var row = {};
  var maxRow = 0;
  var minRow = 0;
  order.forEach(function (id) {
    var v = page.byId[id];
    var lane = laneFor(v);
    var r = lane.last + 1;
    (from[id] || []).forEach(function (p) {
      if (row[p] !== undefined) r = Math.max(r, row[p] + 1);
    });
    row[id] = r;
    lane.last = r;
    maxRow = Math.max(maxRow, r);
  });

  // columns, left to right: git commits, base models outside the report, the branches' lanes, one per dataset
  var box = {};
  nodes.forEach(function (n) {
    box[n.id] = size(text(n));
  });
  var columns = [];
  var column = function (key, title, cls) {
    var c = columns.filter(function (c) {
      return c.key === key;
    })[0];
    if (!c) {
      c = { key: key, title: title, cls: cls, members: [], width: 0, taken: {} };
      columns.push(c);
    }
    return c;
  };
  var gitCol = null;
  var baseCol = null;
  nodes.forEach(function (n) {
    if (n.kind === 'git') gitCol = gitCol || column('git', 'git commits', 'group-git');
    if (n.kind === 'base') baseCol = baseCol || column('base', 'base models (not in this report)', 'group-base');
  });
  var dataCols = [];
  nodes.forEach(function (n) {
    if (n.kind !== 'dataset') return;
    var c = column('data:' + (n.group || n.label), n.group || n.label, 'group-dataset');
    if (dataCols.indexOf(c) < 0) dataCols.push(c);
  });
  // the column of a node outside the branches: git commits, base models, or its dataset's box (null: a version)
  function columnOf(n) {
    if (n.kind === 'git') return gitCol;
    if (n.kind === 'base') return baseCol;
    return n.kind === 'dataset' ? column('data:' + (n.group || n.label)) : null;
  }
  nodes.forEach(function (n) {
    var c = columnOf(n);
    if (!c) return;
    // the row of its oldest user, else the nearest free one; a base model below all of its users (it came first)
    var want = Math.min.apply(
      null,
      (users[n.id] || []).map(function (u) {
        return row[u] === undefined ? 0 : row[u];
      }),
    );
    if (!Number.isFinite(want)) want = 0;
    for (var k = 0; ; k++) {
      var r = n.kind === 'base' ? want - 1 - k : want + (k % 2 ? (k + 1) / 2 : -k / 2);
      if (!c.taken[r]) {
        c.taken[r] = true;
        row[n.id] = r;
        maxRow = Math.max(maxRow, r);
        minRow = Math.min(minRow, r);
        break;
      }
    }
    c.members.push(n.id);
    c.width = Math.max(c.width, box[n.id].w);
  });
  nodes.forEach(function (n) {
    if (n.kind !== 'version') return;
    var v = page.byId[n.id];
    var lane = laneFor(v);
    lane.width = Math.max(lane.width, box[n.id].w, lane.name.length * FONT * 0.62 + 18);
  });
  var x = 0;
  var place = function (width) {
    var center = x + width / 2;
    x += width + GAP;
    return center;
  };
  if (gitCol) gitCol.x = place(gitCol.width);
  if (baseCol) baseCol.x = place(baseCol.width);
  lanes.forEach(function (l) {
    l.x = place(l.width);
  });
  dataCols.forEach(function (c) {
    c.x = place(Math.max(c.width, c.title.length * FONT * 0.62 + 18));
  });
  var yOf = function (r) {
    return (maxRow - r) * ROW; // the newest row at the top
  };

  var elements = [];
  lanes.forEach(function (l, i) {
    elements.push({
      group: 'nodes',
      classes: 'lane',
      data: {
        id: 'lane:' + i,
        label: l.name,
        color: page.branchColor[l.name] || '#999',
        w: size(l.name).w,
        h: FONT + 10,
      },
      position: { x: l.x, y: -ROW * 0.75 },
      selectable: false,
      grabbable: false,
    });
  });
  columns.forEach(function (c) {
    elements.push({ group: 'nodes', classes: 'group ' + c.cls, data: { id: 'group:' + c.key, label: c.title } });
  });
  nodes.forEach(function (n) {
    var v = page.byId[n.id];
    var label = text(n);
    var c = columnOf(n);
    elements.push({
      group: 'nodes',
      classes: n.kind,
      data: {
        id: n.id,
        parent: c ? 'group:' + c.key : undefined,
        label: label,
        kind: n.kind,
        color: v ? page.colorOf(v) : '#999',
        shape: nodeStyle[n.kind],
        w: box[n.id].w,
        h: box[n.id].h,
      },
      position: { x: c ? c.x : laneFor(v).x, y: yOf(row[n.id]) },
    });
  });
  // a version's data and git edges that its first parent has too are implied (hidden until the pointer is on it):
  // each dataset and commit shows where a line of versions starts using it, not 50 lines to one box
  var has = {};
  data.lineage.edges.forEach(function (e) {
    has[e.from + '>' + e.to] = true;
  });
  data.lineage.edges.forEach(function (e, i) {
    var parent = (from[e.from] || [])[0];
    var implied = (e.relation === 'data' || e.relation === 'git') && parent && has[parent + '>' + e.to];
    elements.push({
      group: 'edges',
      classes: e.relation + (implied ? ' implied' : ''),
      data: { id: 'e' + i, source: e.from, target: e.to, relation: e.relation },
    });
  });

  // the container as tall as the graph at a readable zoom, up to most of the window; the rest scrolls
  var container = document.getElementById('lineage');
  var graphHeight = (maxRow - minRow + 2) * ROW;
  container.style.height =
    Math.round(Math.min(Math.max(graphHeight + 40, 260), Math.max(480, innerHeight * 0.8))) + 'px';

  var cy = (report.lineage = cytoscape({
    container: container,
    elements: elements,
    minZoom: 0.1,
    maxZoom: 4,
    style: [
      {
        selector: 'node',
        style: {
          label: 'data(label)',
          'text-wrap': 'wrap',
          'text-valign': 'center',
          'font-size': FONT,
          'background-color': '#fff',
          'border-width': 2,
        },
      },
      { selector: 'node[shape]', style: { shape: 'data(shape)' } },
      { selector: 'node[w]', style: { width: 'data(w)', height: 'data(h)' } },
      { selector: 'node[color]', style: { 'border-color': 'data(color)' } },
      { selector: 'node.version', style: { 'background-color': 'data(color)', color: '#fff', 'border-color': '#333' } },
      { selector: 'node.base', style: { 'border-style': 'dashed', 'border-color': '#d62728' } },
      { selector: 'node.dataset', style: { 'border-color': '#8c564b' } },
      { selector: 'node.git', style: { 'border-color': '#555' } },
      {
        selector: 'node.lane',
        style: {
          shape: 'round-rectangle',
          'background-color': 'data(color)',
          'background-opacity': 0.15,
          'border-width': 0,
          'font-weight': 'bold',
          events: 'no',
        },
      },
      {
        selector: 'node.group',
        style: {
          shape: 'round-rectangle',
          'background-color': '#f4f1ee',
          'border-width': 1,
          'border-color': '#c8b8a8',
          'text-valign': 'top',
          'text-halign': 'center',
          'font-weight': 'bold',
          padding: 10,
        },
      },
      { selector: 'node.group-git, node.group-base', style: { 'background-color': '#f3f3f3', 'border-color': '#bbb' } },
      {
        selector: 'edge',
        style: {
          width: 1.5,
          'curve-style': 'bezier',
          'target-arrow-shape': 'triangle',
          'line-color': '#666',
          'target-arrow-color': '#666',
        },
      },
      {
        selector: 'edge.base',
        style: {
          width: 2,
          'curve-style': 'unbundled-bezier',
          'control-point-distances': 48,
          'control-point-weights': 0.5,
          'line-style': 'dashed',
          'line-color': '#d62728',
          'target-arrow-color': '#d62728',
        },
      },
      { selector: 'edge.ancestor', style: { 'line-style': 'dotted' } },
      {
        selector: 'edge.data, edge.git',
        style: {
          width: 1,
          'curve-style': 'straight',
          'line-color': '#b9a99a',
          'target-arrow-color': '#b9a99a',
          opacity: 0.45,
        },
      },
      { selector: 'edge.implied', style: { display: 'none' } },
      {
        selector: 'edge.near',
        style: {
          display: 'element',
          opacity: 1,
          width: 2.5,
          'line-color': '#222',
          'target-arrow-color': '#222',
          'z-index': 10,
        },
      },
    ],
    layout: { name: 'preset', fit: false },
  }));
  // a version's or dataset's edges stand out while the pointer is on it
  cy.on('mouseover', 'node', function (ev) {
    ev.target.connectedEdges().addClass('near');
  });
  cy.on('mouseout', 'node', function (ev) {
    ev.target.connectedEdges().removeClass('near');
  });

  // the opening view: everything when it fits with labels at least MIN_LABEL_PX high, else a readable zoom panned
  // to the top left (the newest versions)
  var bb = cy.elements().boundingBox();
  var pad = 20;
  var fit = Math.min((cy.width() - 2 * pad) / bb.w, (cy.height() - 2 * pad) / bb.h);
  var zoom = fit * FONT >= MIN_LABEL_PX ? Math.min(fit, 1.3) : 1;
  cy.zoom(zoom);
  cy.pan({
    x: fit * FONT >= MIN_LABEL_PX ? (cy.width() - bb.w * zoom) / 2 - bb.x1 * zoom : pad - bb.x1 * zoom,
    y: fit * FONT >= MIN_LABEL_PX ? (cy.height() - bb.h * zoom) / 2 - bb.y1 * zoom : pad - bb.y1 * zoom,
  });
})();
