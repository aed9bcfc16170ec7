// What a what-if changes, node by node, as the API lists it: before → after for share and
// entitlement, so the dilution reads as numbers too.
import React from 'react';
import { Badge, Table, Text } from '@mantine/core';
import { formatDelta, formatMB, formatMHz, formatPercent } from './model.js';

const changeColors = { ADDED: 'violet', REMOVED: 'red', CHANGED: 'blue' };

function Moved({ before, after, format, resource }) {
  if (before === undefined) return <Text size="sm">{format(after)}</Text>;
  if (after === undefined) return <Text size="sm">{format(before)} → none</Text>;
  const delta = resource ? formatDelta(resource, before, after) : '';
  return (
    <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
      {format(before)} → <b>{format(after)}</b>
      {delta && <Text span display="block" size="xs" c={after > before ? 'teal' : 'red'}> ({delta})</Text>}
    </Text>
  );
}

export function ChangesTable({ changes }) {
  if (!changes || changes.length === 0) {
    return <Text size="sm" c="dimmed">No figure changes.</Text>;
  }
  const pick = (c, key) => ({ before: c.before && c.before[key], after: c.after && c.after[key] });
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table aria-label="What-if changes" striped verticalSpacing={4}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Node</Table.Th>
            <Table.Th w={110}>Change</Table.Th>
            <Table.Th>CPU share</Table.Th>
            <Table.Th>CPU entitlement</Table.Th>
            <Table.Th>Memory share</Table.Th>
            <Table.Th>Memory entitlement</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {changes.map((c) => (
            <Table.Tr key={`${c.change}:${c.path}`}>
              <Table.Td><Text size="sm">{c.path.replaceAll('%2F', '/')}</Text></Table.Td>
              <Table.Td><Badge size="sm" variant="light" color={changeColors[c.change]}>{c.change.toLowerCase()}</Badge></Table.Td>
              <Table.Td><Moved {...pick(c, 'cpu_share_percent')} format={formatPercent} /></Table.Td>
              <Table.Td><Moved {...pick(c, 'cpu_entitlement_mhz')} format={formatMHz} resource="cpu" /></Table.Td>
              <Table.Td><Moved {...pick(c, 'memory_share_percent')} format={formatPercent} /></Table.Td>
              <Table.Td><Moved {...pick(c, 'memory_entitlement_mb')} format={formatMB} resource="memory" /></Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
