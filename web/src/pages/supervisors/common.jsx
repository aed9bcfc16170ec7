// Pieces shared by the Supervisor, VM class and Supervisor Service pages: status badges, vCenter's
// messages and conditions, and the names the inventory gives to ids.
import React from 'react';
import { Badge, Group, List, Stack, Table, Text, Tooltip } from '@mantine/core';
import { useQueries } from '@tanstack/react-query';
import { api, useApi } from '../../api.js';
import { useSession } from '../../session.jsx';

export const NS = '/api/vcenter/namespace-management';

// useMay answers whether the API would allow a capability; the session's `may` map is decided by the
// server from the operation's own privilege, the privilege id is the fallback for an older answer.
export function useMay() {
  const { session, can } = useSession();
  return (capability, privilege) => {
    const may = session && session.may;
    if (may && capability in may) return !!may[capability];
    return can(privilege);
  };
}

const statusColors = {
  RUNNING: 'green', READY: 'green', CONFIGURED: 'green', ACTIVATED: 'green', TRUE: 'green',
  CONFIGURING: 'blue', PENDING: 'blue', REMOVING: 'orange', WARNING: 'yellow',
  ERROR: 'red', FALSE: 'red', DEACTIVATED: 'gray', UNKNOWN: 'gray',
};

// StatusBadge shows one of vCenter's status enums; label says what the status is about, for screen
// readers and for tooltips.
export function StatusBadge({ value, label, color }) {
  if (!value) return <Text c="dimmed" size="sm">—</Text>;
  const badge = (
    <Badge color={color || statusColors[value] || 'gray'} variant="light" aria-label={label ? `${label}: ${value}` : undefined}>
      {value}
    </Badge>
  );
  return label ? <Tooltip label={label}>{badge}</Tooltip> : badge;
}

const severityColors = { ERROR: 'red', WARNING: 'yellow', INFO: 'blue' };

// messageText reads a vCenter message in any of its shapes: a LocalizableMessage, or a
// {severity, details} wrapper around one.
export function messageText(m) {
  if (!m) return '';
  if (m.details) return messageText(m.details);
  return m.default_message || m.id || '';
}

export function Messages({ messages, empty }) {
  if (!messages || messages.length === 0) return empty ? <Text c="dimmed" size="sm">{empty}</Text> : null;
  return (
    <List spacing={4} listStyleType="none">
      {messages.map((m, i) => (
        <List.Item key={i}>
          <Group gap="xs" wrap="nowrap" align="flex-start">
            {m.severity && <Badge size="sm" variant="outline" color={severityColors[m.severity] || 'gray'} style={{ flexShrink: 0 }}>{m.severity}</Badge>}
            <Text size="sm">{messageText(m)}</Text>
          </Group>
        </List.Item>
      ))}
    </List>
  );
}

// InstallsTable lists installs of Supervisor Services (one service on one Supervisor), from either
// side: `first` heads the column that names the other side, name(i) fills it; then the install's
// status and its current and desired versions.
export function InstallsTable({ label, first, installs, rowKey, name, statusLabel }) {
  return (
    <Table aria-label={label}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>{first}</Table.Th>
          <Table.Th>Status</Table.Th>
          <Table.Th>Current version</Table.Th>
          <Table.Th>Desired version</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {installs.map((i) => (
          <Table.Tr key={rowKey(i)}>
            <Table.Td>{name(i)}</Table.Td>
            <Table.Td><StatusBadge value={i.config_status} label={statusLabel(i)} /></Table.Td>
            <Table.Td><Text size="sm">{i.current_version}</Text></Table.Td>
            <Table.Td><Text size="sm">{i.desired_version}</Text></Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

// conditionColor tells a condition still in progress (blue) from one that failed (red).
function conditionColor(c) {
  if (c.status === 'TRUE') return 'green';
  if (c.status === 'FALSE') return c.reason === 'InProgress' ? 'blue' : 'red';
  return 'gray';
}

export function ConditionsTable({ conditions }) {
  if (!conditions || conditions.length === 0) return <Text c="dimmed" size="sm">No conditions reported.</Text>;
  return (
    <Table.ScrollContainer minWidth={700}>
      <Table striped aria-label="Conditions">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Condition</Table.Th>
            <Table.Th miw={100}>Status</Table.Th>
            <Table.Th>Reason</Table.Th>
            <Table.Th>Meaning and messages</Table.Th>
            <Table.Th>Since</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {conditions.map((c) => (
            <Table.Tr key={c.type}>
              <Table.Td><Text fw={500} size="sm">{c.type}</Text></Table.Td>
              <Table.Td><StatusBadge value={c.status} color={conditionColor(c)} label={c.type} /></Table.Td>
              <Table.Td><Text size="sm">{c.reason}</Text></Table.Td>
              <Table.Td>
                <Stack gap={4}>
                  <Text size="sm">{messageText(c.description)}</Text>
                  <Messages messages={c.messages} />
                </Stack>
              </Table.Td>
              <Table.Td><Text size="sm">{formatTime(c.last_transition_time)}</Text></Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

// ConditionsSummary is the one-line form for lists: how many conditions hold, and the ones that do
// not, by name.
export function ConditionsSummary({ conditions }) {
  if (!conditions) return <Text c="dimmed" size="sm">—</Text>;
  const pending = conditions.filter((c) => c.status !== 'TRUE');
  return (
    <Stack gap={2}>
      <Text size="sm">{conditions.length - pending.length} of {conditions.length} conditions met</Text>
      {pending.map((c) => (
        <Group key={c.type} gap={6} wrap="nowrap">
          <Badge size="xs" variant="dot" color={conditionColor(c)}>{c.reason || c.status}</Badge>
          <Text size="xs" c="dimmed">{c.type}</Text>
        </Group>
      ))}
    </Stack>
  );
}

export function formatTime(t) {
  if (!t) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toLocaleString();
}

// Names for ids, read once from the inventory and followed like everything else.
export function useClusterNames() {
  const q = useApi('/api/vcenter/cluster');
  const names = {};
  for (const c of q.data || []) names[c.cluster] = c.name;
  return names;
}

export function usePolicyNames() {
  const q = useApi('/api/vcenter/storage/policies');
  const names = {};
  for (const p of q.data || []) names[p.policy] = p.name;
  return { names, policies: q.data || [], query: q };
}

export function useNetworkNames() {
  const q = useApi('/api/vcenter/network');
  const names = {};
  for (const n of q.data || []) names[n.network] = n.name;
  return names;
}

// useLibraries lists the content libraries with their names (list answers ids only).
export function useLibraries() {
  const list = useApi('/api/content/library');
  const ids = list.data || [];
  const infos = useQueries({
    queries: ids.map((id) => ({ queryKey: [`/api/content/library/${id}`], queryFn: () => api('GET', `/api/content/library/${id}`) })),
  });
  return ids.map((id, i) => ({ id, name: (infos[i].data && infos[i].data.name) || id }));
}

// useSupervisorIdentities maps each cluster to its Supervisor's id and name: the summaries name
// Supervisors, their topology says which cluster each runs on.
export function useSupervisorIdentities() {
  const summaries = useApi(`${NS}/supervisors/summaries`);
  const items = (summaries.data && summaries.data.items) || [];
  const topologies = useQueries({
    queries: items.map((s) => ({
      queryKey: [`${NS}/supervisors/${s.supervisor}/topology`],
      queryFn: () => api('GET', `${NS}/supervisors/${s.supervisor}/topology`),
    })),
  });
  const byCluster = {};
  items.forEach((s, i) => {
    for (const zone of topologies[i].data || []) {
      for (const cluster of zone.clusters || []) {
        byCluster[cluster] = { id: s.supervisor, name: s.info && s.info.name, zone: zone.zone };
      }
    }
  });
  return byCluster;
}

// Percent of used over capacity, for bars.
export function percent(used, capacity) {
  if (!capacity) return 0;
  return Math.min(100, (100 * (used || 0)) / capacity);
}
