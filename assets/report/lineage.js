/* The lineage graph of an `mvm report` page, run after report.js (whose helpers come in window.mvmPage). */
(function () {
  var page = window.mvmPage;
  var data = page.data;
  var report = page.report;
  // the lineage graph
  var nodeStyle = { version: 'round-rectangle', base: 'round-rectangle', dataset: 'barrel', git: 'tag' };
  var elements = data.lineage.nodes
    .map(function (n) {
      var v = page.byId[n.id];
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
          color: v ? page.colorOf(v) : '#999',
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
})();
