// Pure helpers over the resource model's answers (docs/resource-model.md): drs.Result trees from
// GET /api/wcpd/clusters/{cluster}/resources and the what-if's before/after/changes.

// nodePath names a node as the what-if API does: names from the top down, joined by '/', with a
// '/' inside a name written %2F.
export function nodePath(parentPath, name) {
  const own = name.replaceAll('/', '%2F');
  return parentPath ? `${parentPath}/${own}` : own;
}

// flatten lists a tree's nodes in display order with their depth, path and parent's entitlement
// (what the node and its siblings divide), skipping the descendants of collapsed paths.
export function flatten(analysis, collapsed = new Set()) {
  const rows = [];
  const walk = (children, depth, parentPath, parent) => {
    for (const node of children || []) {
      const path = nodePath(parentPath, node.name);
      rows.push({ node, depth, path, parent });
      if (node.children && node.children.length && !collapsed.has(path)) {
        walk(node.children, depth + 1, path, {
          cpu: node.cpu_entitlement_mhz,
          memory: node.memory_entitlement_mb,
        });
      }
    }
  };
  if (analysis) {
    walk(analysis.children, 0, '', { cpu: analysis.capacity.cpu_mhz, memory: analysis.capacity.memory_mb });
  }
  return rows;
}

// byPath indexes every node of a tree by its path.
export function byPath(analysis) {
  const index = new Map();
  for (const row of flatten(analysis)) index.set(row.path, row);
  return index;
}

// warnings gathers every node's warnings with the node's path.
export function warnings(analysis) {
  return flatten(analysis).flatMap(({ node, path }) => (node.warnings || []).map((w) => ({ ...w, path })));
}

// namespacePools are the pools of the Supervisor's Namespaces pool: one per namespace.
export function namespacePools(analysis) {
  if (!analysis) return [];
  const pool = (analysis.children || []).find((n) => n.id && n.id === analysis.namespaces_pool);
  return ((pool && pool.children) || []).filter((n) => n.type === 'RESOURCE_POOL');
}

// formatMHz and formatMB render amounts as the model's own tables do (GHz and GB with two
// decimals), so the page's figures read the same as `wcpd analyze` and seed 003.
export function formatMHz(v) {
  if (v === undefined || v === null) return '–';
  if (v < 0) return 'unlimited';
  return v < 1000 ? `${v} MHz` : `${(v / 1000).toFixed(2)} GHz`;
}
export function formatMB(v) {
  if (v === undefined || v === null) return '–';
  if (v < 0) return 'unlimited';
  return v < 1024 ? `${v} MB` : `${(v / 1024).toFixed(2)} GB`;
}
// formatMHzShort and formatMBShort are for chart axes, where two decimals crowd the labels.
export function formatMHzShort(v) {
  return v < 1000 ? `${v} MHz` : `${Number((v / 1000).toFixed(1))} GHz`;
}
export function formatMBShort(v) {
  if (v >= 1024 * 1024) return `${Number((v / 1024 / 1024).toFixed(2))} TB`;
  return v < 1024 ? `${v} MB` : `${Number((v / 1024).toFixed(1))} GB`;
}
export function formatPercent(v) {
  return `${(v || 0).toFixed(2)} %`;
}
export function formatShares(v) {
  return (v || 0).toLocaleString('en-US');
}

// formatDelta renders after − before in the resource's unit, signed, or '' when nothing changed.
export function formatDelta(resource, before, after) {
  const d = after - before;
  if (!d) return '';
  const text = resource === 'cpu' ? formatMHz(Math.abs(d)) : formatMB(Math.abs(d));
  return `${d > 0 ? '+' : '−'}${text}`;
}

export const resources = {
  cpu: {
    label: 'CPU',
    entitlement: 'cpu_entitlement_mhz',
    reserved: 'cpu_reserved_mhz',
    shares: 'cpu_shares',
    percent: 'cpu_share_percent',
    bound: 'cpu_bound',
    limit: 'cpu_mhz', // the key of drs.Amount (a node's limit) for the resource
    format: formatMHz,
  },
  memory: {
    label: 'Memory',
    entitlement: 'memory_entitlement_mb',
    reserved: 'memory_reserved_mb',
    shares: 'memory_shares',
    percent: 'memory_share_percent',
    bound: 'memory_bound',
    limit: 'memory_mb',
    format: formatMB,
  },
};

// sizeOf is what a VM or pod can use at most (its configured size), in MHz and MB.
export function sizeOf(node, cpuMHzPerVCPU) {
  if (!node.size || !node.size.cpu_count) return null;
  return { cpu: node.size.cpu_count * cpuMHzPerVCPU, memory: node.size.memory_mb };
}
