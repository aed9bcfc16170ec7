// What the namespace pages read besides the namespace itself: names for the ids a namespace holds
// (storage policies, content libraries, clusters), the caller's role on a namespace, and the
// conversions between a namespace's limits and the form fields that edit them.
import { useQueries } from '@tanstack/react-query';
import { api, useApi } from '../../api.js';
import { useSession } from '../../session.jsx';

export const NAMESPACES = '/api/vcenter/namespaces/instances';
export const USER_NAMESPACES = '/api/vcenter/namespaces-user/namespaces';
export const CLUSTERS = '/api/vcenter/namespace-management/clusters';
export const STORAGE_POLICIES = '/api/vcenter/storage/policies';
export const VM_CLASSES = '/api/vcenter/namespace-management/virtual-machine-classes';
export const LIBRARIES = '/api/content/library';
export const SELF_SERVICE = '/api/vcenter/namespaces/namespace-self-service';

export const namespacePath = (name) => `${NAMESPACES}/${encodeURIComponent(name)}`;
export const accessPath = (name, domain, subject, type) =>
  `${namespacePath(name)}/access/${encodeURIComponent(domain)}/${encodeURIComponent(subject)}?type=${type}`;

// canReadInventory: the global read privilege, without which the inventory lists (clusters,
// policies, classes) answer 403 and only the namespaces the user holds a role on are reachable.
export function useCanReadInventory() {
  const { session, can } = useSession();
  return session && session.may ? !!session.may.read_inventory : can('System.Read');
}

export function useCanManageNamespaces() {
  const { session, can } = useSession();
  return session && session.may ? !!session.may.manage_namespaces : can('Namespaces.Manage');
}

// useNamespaceNames answers the names of the namespaces the caller sees: every namespace for a
// reader of the inventory, else those the namespaces-user view gives (the user's role entries).
export function useNamespaceNames() {
  const reader = useCanReadInventory();
  const all = useApi(reader ? NAMESPACES : null);
  const mine = useApi(reader ? null : USER_NAMESPACES);
  const query = reader ? all : mine;
  const names = (query.data || []).map((n) => n.namespace).sort();
  const summaries = Object.fromEntries((query.data || []).map((n) => [n.namespace, n]));
  return { query, names, summaries };
}

// useNamespaceDetails gets every named namespace (limits and storage are only in the get). The
// list's own answer, polled every 3 s, carries the usage; limits change seldom, so each get is asked
// again every 30 s rather than with it: one request per namespace every 3 s would grow with the
// number of namespaces. A change made from this browser refreshes every query at once
// (useApiMutation).
export function useNamespaceDetails(names) {
  const results = useQueries({
    queries: names.map((name) => ({
      queryKey: [namespacePath(name)], queryFn: () => api('GET', namespacePath(name)), refetchInterval: 30000,
    })),
  });
  return Object.fromEntries(names.map((name, i) => [name, results[i]]));
}

// useNames turns the id lists of the inventory into id → display name maps; without read access
// they stay empty and the pages show ids.
export function useInventoryNames() {
  const reader = useCanReadInventory();
  const clusters = useApi(reader ? CLUSTERS : null, { refetchInterval: 10000 });
  const policies = useApi(reader ? STORAGE_POLICIES : null, { refetchInterval: 30000 });
  const libraryIds = useApi(reader ? LIBRARIES : null, { refetchInterval: 30000 });
  const libraries = useQueries({
    queries: (libraryIds.data || []).map((id) => ({
      queryKey: [`${LIBRARIES}/${id}`],
      queryFn: () => api('GET', `${LIBRARIES}/${id}`),
      refetchInterval: 30000,
    })),
  });
  return {
    clusters: clusters.data || [],
    clusterName: Object.fromEntries((clusters.data || []).map((c) => [c.cluster, c.cluster_name])),
    policies: policies.data || [],
    policyName: Object.fromEntries((policies.data || []).map((p) => [p.policy, p.name])),
    libraries: libraries.filter((l) => l.data).map((l) => ({ id: l.data.id, name: l.data.name })),
    libraryName: Object.fromEntries(libraries.filter((l) => l.data).map((l) => [l.data.id, l.data.name])),
  };
}

// useMyRole answers the caller's role on a namespace (VIEW, EDIT, OWNER, possibly through a group)
// as the access get reports it, or null when the user holds none.
export function useMyRole(name) {
  const { session } = useSession();
  const [subject, domain = 'vsphere.local'] = (session.user || '').split('@');
  const query = useApi(name ? accessPath(name, domain, subject, 'USER') : null);
  return query.data ? query.data.role : null;
}

// The limits a namespace's form edits, with their units; everything else of resource_spec is kept
// as it is.
export const LIMITS = [
  { key: 'cpu_limit', label: 'CPU limit', unit: 'MHz', min: 10 },
  { key: 'memory_limit', label: 'Memory limit', unit: 'MiB', min: 1 },
  { key: 'storage_request_limit', label: 'Storage limit', unit: 'MiB', min: 1 },
  { key: 'pod_count', label: 'Pods', unit: '', min: 0 },
];

// limitsForCreate makes resource_spec from the form's values, leaving empty fields out (no limit).
// limitLabel is a limit's form label with its unit.
export const limitLabel = (l) => (l.unit ? `${l.label} (${l.unit})` : l.label);

export function limitsForCreate(values) {
  const spec = {};
  for (const { key } of LIMITS) {
    if (values[key] !== '' && values[key] !== undefined && values[key] !== null) spec[key] = Number(values[key]);
  }
  return spec;
}

// limitsForUpdate makes a ResourceQuotaOptionsV1Update: a value sets the limit, an emptied field
// removes it (<limit>_unset), an untouched absent one stays absent.
export function limitsForUpdate(values, current = {}) {
  const spec = {};
  for (const { key } of LIMITS) {
    const v = values[key];
    if (v === '' || v === undefined || v === null) {
      if (current[key] !== undefined) spec[`${key}_unset`] = true;
    } else if (Number(v) !== current[key]) {
      spec[key] = Number(v);
    }
  }
  return spec;
}

// storageLimit is what a namespace may use in all: its storage request limit, else the sum of its
// policies' limits when every policy has one.
export function storageLimit(ns) {
  const rs = ns.resource_spec || {};
  if (rs.storage_request_limit !== undefined) return rs.storage_request_limit;
  const specs = ns.storage_specs || [];
  if (specs.length && specs.every((s) => s.limit !== undefined)) return specs.reduce((a, s) => a + s.limit, 0);
  return undefined;
}

export const ROLES = ['VIEW', 'EDIT', 'OWNER'];

export const statusColor = (status) =>
  ({ RUNNING: 'green', CONFIGURING: 'blue', REMOVING: 'orange', ERROR: 'red' })[status] || 'gray';
